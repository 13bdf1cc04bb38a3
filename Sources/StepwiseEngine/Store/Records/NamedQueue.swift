import StepwiseExpressions
import StepwiseProtocol

/// A QStash queue (`/v2/enqueue/<queue>/…`, `/v2/queues`): its messages are delivered in order of
/// enqueueing, at most `parallelism` at once, none while it is paused. A queue is a flow-control
/// key of its own (`flowKey(of:)`), so the flow-control admission applies its limits.
public struct NamedQueue: Sendable, Equatable {
    /// The queue's name (`QStashName`).
    public var name: String
    /// Messages in flight at once.
    public var parallelism: Int
    /// Whether its messages wait until it is resumed.
    public var paused: Bool
    /// Milliseconds since the epoch.
    public var createdAt: Int64
    /// Milliseconds since the epoch.
    public var updatedAt: Int64
    /// The queue's messages not yet delivered (in flight included).
    public var lag: Int

    /// A queue with the given parts.
    public init(name: String, parallelism: Int, paused: Bool, createdAt: Int64, updatedAt: Int64, lag: Int) {
        self.name = name
        self.parallelism = parallelism
        self.paused = paused
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.lag = lag
    }

    /// The parallelism of a queue an enqueue creates.
    public static let defaultParallelism = 1

    /// The flow-control key of queue `name`.
    public static func flowKey(of name: String) -> String { QStashName.queueFlowKeyPrefix + name }

    /// The flow control of a message enqueued to `name`: counted under the queue's key, whose
    /// pinned parallelism (the default one when unpinned), rate and pause apply.
    public static func flowControl(of name: String) -> FlowControl {
        FlowControl(concurrencyKey: flowKey(of: name), concurrencyLimit: defaultParallelism, rateKey: flowKey(of: name))
    }
}
