/// Which entries of the workflow DLQ a listing takes (`/v2/workflows/dlq`); every field `nil`
/// takes every entry.
public struct DeadLetterFilter: Sendable, Equatable {
    /// The most entries one page holds, as Upstash allows.
    public static let maximumPage = 100

    /// The failed run's id.
    public var runId: String?
    /// The run's workflow, exactly, any of these: an SDK run's endpoint URL, a YAML workflow's
    /// name; empty for any.
    public var workflows: [String] = []
    /// Any of the run's labels (`RunRecord.labels`); empty for any.
    public var labels: [String] = []
    /// Any of these flow-control keys of the run (`RunRecord.flowControlKey`); empty for any.
    public var flowControlKeys: [String] = []
    /// Any of these addresses of the client that started the run (`RunRecord.callerIp`); empty for any.
    public var callerIps: [String] = []
    /// How the run's failure callback went, any of these; empty for any. Entries without a
    /// failure callback match only when it is empty.
    public var failureCallbackStates: [FailureCallbackRecord.State] = []
    /// The earliest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedFrom: Int64?
    /// The latest failure time taken, in milliseconds since the epoch (inclusive).
    public var failedUntil: Int64?

    /// A filter that takes every entry.
    public init() {}

}
