import StepwiseExpressions
import StepwiseProtocol

/// Events that came before a run's waits (lookback): notifications and webhook calls, each kept
/// under a key of its own (`LookbackKey`), so that several early events of one id are all kept
/// and taken oldest first.
extension StoreTransaction {
    /// Keeps `data` for one of run `runId`'s coming waits on `eventId`, after those kept before
    /// it; false, keeping nothing, when the run already keeps `maximum` events of `kind` (no bound
    /// when `nil`).
    func keepEarlyEvent(_ data: Value, kind: String, eventId: String, runId: String, at time: TimestampValue, maximum: Int?) throws -> Bool {
        if let maximum, try keptEventCount(runId: runId, prefix: kind + ":") >= maximum { return false }
        let key = LookbackKey.key(kind: kind, eventId: eventId, nanoseconds: time.nanosecondsSinceEpoch, salt: UInt32.random(in: 0...UInt32.max))
        try keepEvent(runId: runId, event: key, data: data, at: time)
        return true
    }

    /// Removes and returns the oldest notification of `event` kept for run `runId`'s next wait
    /// (`RunTransitions.notify`), if any. One kept by an earlier version, under the event id
    /// itself, comes first.
    public func takeKeptNotification(runId: String, event: String) throws -> Value? {
        if let earlier = try takeEvent(runId: runId, event: event) { return earlier }
        return try takeFirstEvent(runId: runId, prefix: LookbackKey.prefix(kind: NotifyResult.lookbackKind, eventId: event))
    }
}
