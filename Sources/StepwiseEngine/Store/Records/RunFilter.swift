import StepwiseExpressions
import StepwiseRuntime

/// Filters of run listings.
public struct RunFilter: Sendable, Equatable {
    public var workflow: String?
    public var status: RunStatus?
    public var limit: Int
    /// Only runs listed after this cursor (the next page).
    public var after: PageCursor?
    /// Only runs created at or after this instant, and before `createdBefore`.
    public var createdFrom: TimestampValue?
    public var createdBefore: TimestampValue?
    /// Only these runs; empty for any run.
    public var runIds: [String] = []
    /// Only SDK runs of exactly one of these workflow URLs; empty for any run.
    public var endpoints: [String] = []
    /// Only SDK runs whose workflow URL starts with one of these (a bulk cancel's `workflowUrl`);
    /// empty for any run.
    public var endpointPrefixes: [String] = []
    /// Only runs with any of these labels (`RunRecord.labels`); empty for any run.
    public var labels: [String]
    /// Only runs of any of these flow-control keys (`RunRecord.flowControlKey`); empty for any run.
    public var flowControlKeys: [String] = []
    /// Only runs started by a client at any of these IP addresses (`RunRecord.callerIp`); empty for any run.
    public var callerIps: [String] = []

    public init(
        workflow: String? = nil, status: RunStatus? = nil, limit: Int = 100, after: PageCursor? = nil, createdFrom: TimestampValue? = nil,
        createdBefore: TimestampValue? = nil, labels: [String] = []
    ) {
        self.labels = labels
        self.workflow = workflow
        self.status = status
        self.limit = limit
        self.after = after
        self.createdFrom = createdFrom
        self.createdBefore = createdBefore
    }

    /// The SQL of the flow-control key of a row of `runs` named `table`, as `RunRecord` reads it:
    /// a YAML run's row written by a node older than the key's column has its flow control's.
    public static func flowKeyColumn(of table: String) -> String {
        "COALESCE(\(table).flow_key, \(table).concurrency_key, \(table).rate_key)"
    }
}
