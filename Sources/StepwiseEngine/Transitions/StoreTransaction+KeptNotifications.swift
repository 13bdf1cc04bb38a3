import StepwiseExpressions
import StepwiseProtocol

extension StoreTransaction {
    /// Removes and returns the oldest notification of `event` kept for run `runId`'s next wait
    /// (`RunTransitions.notify`), if any. One kept by an earlier version, under the event id
    /// itself, comes first.
    public func takeKeptNotification(runId: String, event: String) throws -> Value? {
        if let earlier = try takeEvent(runId: runId, event: event) { return earlier }
        return try takeFirstEvent(runId: runId, prefix: LookbackKey.prefix(kind: NotifyResult.lookbackKind, eventId: event))
    }
}
