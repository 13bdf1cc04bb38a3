import StepwiseExpressions
import StepwiseRuntime

/// Filters of run listings.
public struct RunFilter: Sendable, Equatable {
    public var workflow: String?
    public var status: RunStatus?
    public var limit: Int

    public init(workflow: String? = nil, status: RunStatus? = nil, limit: Int = 100) {
        self.workflow = workflow
        self.status = status
        self.limit = limit
    }
}
