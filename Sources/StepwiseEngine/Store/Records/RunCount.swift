/// How many runs a workflow has in one status, for metrics.
public struct RunCount: Sendable, Equatable {
    public let workflow: String
    public let status: RunStatus
    public let count: Int

    public init(workflow: String, status: RunStatus, count: Int) {
        self.workflow = workflow
        self.status = status
        self.count = count
    }
}
