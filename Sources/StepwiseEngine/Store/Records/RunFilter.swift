import StepwiseExpressions
import StepwiseRuntime

/// Filters of run listings.
public struct RunFilter: Sendable, Equatable {
    public var workflow: String?
    public var status: RunStatus?
    public var limit: Int
    /// Only runs listed after this cursor (the next page).
    public var after: RunCursor?

    public init(workflow: String? = nil, status: RunStatus? = nil, limit: Int = 100, after: RunCursor? = nil) {
        self.workflow = workflow
        self.status = status
        self.limit = limit
        self.after = after
    }
}
