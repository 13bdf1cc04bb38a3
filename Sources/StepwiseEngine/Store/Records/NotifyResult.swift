import StepwiseExpressions
import StepwiseRuntime

/// What a notification did: the runs it woke, and whether it was kept for a run not waiting yet.
public struct NotifyResult: Sendable, Equatable {
    public var woken: [WokenRun]
    public var stored: Bool
    /// The run already keeps `maximumKeptEvents` notifications that came before their waits, so
    /// this one was neither delivered nor kept.
    public var refused = false

    /// The most notifications one run keeps for its coming waits.
    public static let maximumKeptEvents = 100

    /// The ids of the runs it woke.
    public var runIds: [String] { woken.map(\.runId) }

    /// The kind of a kept notification's key (`LookbackKey`).
    static let lookbackKind = "notify"
}
