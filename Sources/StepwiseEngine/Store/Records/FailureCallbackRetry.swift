/// What a retry of a dead-lettered run's failure callback found (`Store.retryFailureCallback`).
public enum FailureCallbackRetry: Sendable, Equatable {
    /// The callback is queued again; the run it reports.
    case retried(RunRecord)
    /// There is no such entry.
    case noEntry
    /// The callback has not failed: it is in flight, was delivered, or the run has none (`nil`).
    case notFailed(FailureCallbackRecord.State?)
}
