/// Where a source delivers its events, in order.
public struct MemberEventSink: Sendable {
    private let deliver: @Sendable (MemberEvent) -> Void

    public init(_ deliver: @escaping @Sendable (MemberEvent) -> Void) {
        self.deliver = deliver
    }

    public func send(_ event: MemberEvent) {
        deliver(event)
    }
}
