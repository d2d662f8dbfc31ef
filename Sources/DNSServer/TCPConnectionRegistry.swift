import NIOCore
import Synchronization

/// The open DNS TCP connections of every listener and event loop, against a total cap and a cap per source
/// address. When the total cap is reached a new connection is still taken: the connection that has gone longest
/// without a complete query is closed to make room (as Knot and NSD close their least recently used), so clients
/// that hold connections without using them cannot lock new clients out. The per-source cap keeps one address
/// from taking every slot in the first place.
final class TCPConnectionRegistry: Sendable {
    /// One admitted connection. Its handler stores the time of each complete query, which eviction reads.
    final class Entry: Sendable {
        fileprivate let source: String
        fileprivate let channel: any Channel
        /// Uptime nanoseconds of the last complete query, or of the accept before the first.
        private let lastQuery: Atomic<UInt64>

        fileprivate init(source: String, channel: any Channel, now: UInt64) {
            self.source = source
            self.channel = channel
            self.lastQuery = Atomic(now)
        }

        func queried(at now: NIODeadline) {
            lastQuery.store(now.uptimeNanoseconds, ordering: .relaxed)
        }

        fileprivate var lastQueryNanoseconds: UInt64 { lastQuery.load(ordering: .relaxed) }
    }

    enum Admission {
        case admitted(Entry, evicted: Bool)
        case refusedPerSource
    }

    let limit: Int
    let perSourceLimit: Int

    private struct State {
        var entries: [ObjectIdentifier: Entry] = [:]
        var bySource: [String: Int] = [:]
    }

    private let state = Mutex(State())

    init(limit: Int, perSourceLimit: Int) {
        self.limit = limit
        self.perSourceLimit = perSourceLimit
    }

    var current: Int { state.withLock { $0.entries.count } }

    /// Takes a slot for `channel`, closing the longest-unused connection when every slot is taken; refuses when
    /// the channel's source address already holds `perSourceLimit` connections.
    func admit(_ channel: any Channel, now: NIODeadline) -> Admission {
        let source = channel.remoteAddress?.ipAddress ?? "unknown"
        let (admission, victim): (Admission, (any Channel)?) = state.withLock { state in
            guard state.bySource[source, default: 0] < perSourceLimit else { return (.refusedPerSource, nil) }
            var victim: Entry?
            if state.entries.count >= limit {
                // A scan only when full: at most `limit` entries, and no cost while below the cap.
                for entry in state.entries.values
                where victim == nil || entry.lastQueryNanoseconds < victim!.lastQueryNanoseconds {
                    victim = entry
                }
                if let victim { Self.remove(victim, from: &state) }
            }
            let entry = Entry(source: source, channel: channel, now: now.uptimeNanoseconds)
            state.entries[ObjectIdentifier(entry)] = entry
            state.bySource[source, default: 0] += 1
            return (.admitted(entry, evicted: victim != nil), victim?.channel)
        }
        victim?.close(promise: nil)
        return admission
    }

    /// Gives the slot back when the connection closes (a no-op for one already evicted).
    func release(_ entry: Entry) {
        state.withLock { state in
            if state.entries[ObjectIdentifier(entry)] != nil { Self.remove(entry, from: &state) }
        }
    }

    private static func remove(_ entry: Entry, from state: inout State) {
        state.entries[ObjectIdentifier(entry)] = nil
        let left = state.bySource[entry.source, default: 1] - 1
        state.bySource[entry.source] = left > 0 ? left : nil
    }
}
