import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/workflows/dlq` (or `/v2/dlq?source=workflow`) asks for, as Upstash names
/// it: `count` (from 1; 100, the default, at most), `cursor`, and the filters `workflowRunId`,
/// `workflowUrl` (or its older name `url`) and `workflow`, all three the run's workflow exactly
/// (an SDK run's endpoint URL, a YAML workflow's name), `label`, `flowControlKey`, `callerIp` (or
/// `callerIP`), `fromDate` and `toDate` (unix milliseconds of the failure, inclusive),
/// `failureFunctionState` (how the run's failure callback went: `CALLBACK_INPROGRESS`,
/// `CALLBACK_SUCCESS`, `CALLBACK_FAIL`). All but `workflowRunId` and the dates take several values
/// (repeated or comma-separated; URLs repeated only), matching any, as Upstash's do; the three
/// names of the workflow are one filter, an entry of any workflow they name being taken. An empty
/// value is no value; a filter Stepwise cannot apply, or a second value of another, is refused
/// rather than ignored, which would list entries it does not match.
struct DeadLetterQuery {
    var filter = DeadLetterFilter()
    var cursor: PageCursor?
    var count = DeadLetterFilter.maximumPage

    /// Filters of Upstash's DLQ API that Stepwise does not apply, with why.
    private static let unserved = [
        ("workflowCreatedAt", "filter on the failure time with fromDate and toDate"),
        ("responseStatus", "entries are not found by their answer's status"),
    ]

    /// The names of `unserved`.
    static var unservedNames: [String] { unserved.map(\.0) }

    /// The filters of at most one value.
    static let singleFilters = ["workflowRunId", "fromDate", "toDate"]
    /// The filters of several values, matching any.
    static let multiFilters = ["workflowUrl", "url", "workflow", "label", "failureFunctionState", "flowControlKey"] + ListingQuery.callerFilters
    /// Every filter read.
    static let filters = singleFilters + multiFilters
    /// Every parameter a page is read from.
    static let parameters = ["count", "cursor"] + filters

    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        try query.refuseUnserved(Self.unserved)
        for name in Self.singleFilters { _ = try query.single(name) }
        count = try query.count(maximum: DeadLetterFilter.maximumPage)
        cursor = try query.cursor { PageCursor(text: $0) }
        filter.runId = query.text("workflowRunId")
        // Each names the run's workflow: an entry matching any of them is taken.
        filter.workflows = query.urls("workflowUrl") + query.urls("url") + (try query.values("workflow"))
        filter.labels = try query.values("label")
        filter.flowControlKeys = try query.values("flowControlKey")
        filter.callerIps = try query.callerIps()
        for state in try query.values("failureFunctionState") {
            guard let known = FailureCallbackRecord.State(rawValue: state) else {
                let states = FailureCallbackRecord.State.allCases.map(\.rawValue).joined(separator: ", ")
                throw ProtocolError("failureFunctionState must be one of \(states), not '\(state)'")
            }
            filter.failureCallbackStates.append(known)
        }
        (filter.failedFrom, filter.failedUntil) = try query.dates()
    }
}
