import StepwiseExpressions
import StepwiseRuntime

/// A message waiting to be processed at a due time: the next delivery of a run, the timer of a
/// pending operation (a sleep ends, a retry is due, a wait times out), or a call to perform.
public struct PendingMessage: Sendable, Equatable {
    /// What the message is for.
    public enum Kind: String, Sendable {
        case deliver
        case timer
        case call
    }

    public var id: Int64
    public var runId: String
    public var kind: Kind
    /// For timers and calls: the step whose operation it belongs to.
    public var stepName: String?
    public var attempt: Int
    public var dueAt: TimestampValue
    /// When this node claimed it (flow control admits deliveries at that instant).
    public var claimedAt: TimestampValue?
    /// The token of the lease this node holds on it, new at every claim: a completion must show
    /// it, so that a holder whose lease ran out cannot complete a later claim of the same message
    /// (a run's delivery keeps its message from step to step).
    public var lease: Int64?

    /// A new lease token.
    public static func newLease() -> Int64 {
        Int64.random(in: 1...Int64.max)
    }

    /// The ids of `messages` still held under the lease each was given, by the lease tokens
    /// `owner`'s rows show now (`Store.messagesHeld`): a cancel deletes a message, and a claim
    /// after its lease ran out gives it a new token.
    public static func stillHeld(_ messages: [PendingMessage], tokens: [Int64: Int64?]) -> Set<Int64> {
        Set(messages.filter { tokens[$0.id] == .some($0.lease) }.map(\.id))
    }

    public init(id: Int64, runId: String, kind: Kind = .deliver, stepName: String? = nil, attempt: Int, dueAt: TimestampValue) {
        self.id = id
        self.runId = runId
        self.kind = kind
        self.stepName = stepName
        self.attempt = attempt
        self.dueAt = dueAt
    }
}
