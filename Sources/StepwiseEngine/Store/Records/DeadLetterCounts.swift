/// The entries of a store's two dead-letter queues at one instant, for metrics: failed runs
/// (`/v2/workflows/dlq`) and plain messages given up (`/v2/dlq`).
public struct DeadLetterCounts: Sendable, Equatable {
    /// Failed runs waiting in the DLQ of runs.
    public let runs: Int
    /// Plain messages given up, in the DLQ of messages.
    public let messages: Int

    /// Counts of `runs` and `messages`.
    public init(runs: Int, messages: Int) {
        self.runs = runs
        self.messages = messages
    }
}
