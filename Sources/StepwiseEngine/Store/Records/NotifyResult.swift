import StepwiseExpressions
import StepwiseRuntime

/// What a notification did: the runs it woke, and whether it was kept for a run not waiting yet.
public struct NotifyResult: Sendable, Equatable {
    public var woken: [String]
    public var stored: Bool
}
