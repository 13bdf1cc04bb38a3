import StepwiseExpressions

/// How long ended runs are kept (`WorkflowEngine.Configuration.runRetention`).
extension RunTransitions {
    /// The most runs one expiry deletes: each takes its journal, attempts and DLQ entry with it,
    /// so a long backlog is deleted in short transactions that deliveries can get between.
    public static var expiredRunsPerTransaction: Int { 20 }

    /// Deletes up to `expiredRunsPerTransaction` runs that ended before `time`, a failed run's DLQ
    /// entry with it. A run with a message still queued (a failure callback being tried, a
    /// callback) is kept until that message is gone. How many runs it deleted.
    public func expireEndedRuns(before time: TimestampValue) throws -> Int {
        try transaction.deleteEndedRuns(before: time, limit: Self.expiredRunsPerTransaction)
    }
}
