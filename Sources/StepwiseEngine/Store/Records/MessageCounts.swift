/// The messages and queued messages of a store at one instant, for metrics: due and free to
/// claim, leased (being delivered), and due later (sleeps, waits' timeouts, retries, held back).
public struct MessageCounts: Sendable, Equatable {
    public let due: Int
    public let leased: Int
    public let later: Int

    public init(due: Int, leased: Int, later: Int) {
        self.due = due
        self.leased = leased
        self.later = later
    }
}
