import NIOCore
import Synchronization

/// One response buffer per event loop: room for the 2-byte length prefix and the largest DNS message.
///
/// The handlers of one event loop run one at a time, so they can share a buffer; a buffer per connection
/// would cost 64 KiB for every open connection instead of per loop. Behind the message room, at `turnOffset`,
/// sits the loop's turn counter for rotating answers (`ResponseOutcome.turn`): one per loop, as each UDP worker
/// has one, so no counter is shared between threads.
final class TCPScratchBuffers: Sendable {
    static let size = 2 + 65535
    static let turnOffset = size

    private struct Buffers: ~Copyable {
        var byLoop: [ObjectIdentifier: UnsafeMutableRawBufferPointer] = [:]

        deinit {
            for buffer in byLoop.values { buffer.deallocate() }
        }
    }

    private let buffers = Mutex(Buffers())

    /// The buffer of `eventLoop`; looked up once per connection, used only on that loop. The pointer stays
    /// valid as long as this object lives, so a handler keeps a reference to it.
    func buffer(for eventLoop: any EventLoop) -> UnsafeMutableRawBufferPointer {
        let key = ObjectIdentifier(eventLoop)
        return buffers.withLock { buffers in
            if let buffer = buffers.byLoop[key] { return buffer }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.size + 4, alignment: 16)
            buffer.storeBytes(of: 0, toByteOffset: Self.turnOffset, as: UInt32.self)
            buffers.byLoop[key] = buffer
            return buffer
        }
    }
}
