/// The entries of a store's two dead-letter queues at one instant, for metrics: failed runs
/// (`/v2/workflows/dlq`) and plain messages given up (`/v2/dlq`).
public struct DeadLetterCounts: Sendable, Equatable {
    public let runs: Int
    public let messages: Int

    public init(runs: Int, messages: Int) {
        self.runs = runs
        self.messages = messages
    }
}
