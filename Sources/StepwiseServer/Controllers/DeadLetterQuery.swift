import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/workflows/dlq` asks for, as Upstash names it: `count` (from 1; 100, the
/// default, at most), `cursor`, and the filters `workflowRunId`, `workflowUrl` (an SDK run's
/// endpoint, exactly) or `workflow` (a YAML workflow's name), `label`, `fromDate` and `toDate`
/// (unix milliseconds of the failure, inclusive). An empty value is no value; a filter Stepwise
/// cannot apply is refused rather than ignored, which would list entries it does not match.
struct DeadLetterQuery {
    var filter = DeadLetterFilter()
    var cursor: PageCursor?
    var count = DeadLetterFilter.maximumPage

    /// Filters of Upstash's API that Stepwise does not record, with why.
    private static let unserved = [
        ("callerIp", "Stepwise does not record the address a run was started from"),
        ("failureFunctionState", "Stepwise does not track the failure function's state on the entry; the message log shows its callback"),
        ("flowControlKey", "entries are not kept by flow-control key"),
        ("workflowCreatedAt", "filter on the failure time with fromDate and toDate"),
    ]

    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        for (name, why) in Self.unserved where query.text(name) != nil {
            throw ProtocolError("\(name) cannot filter here: \(why)")
        }
        count = try query.count(maximum: DeadLetterFilter.maximumPage)
        cursor = try query.cursor { PageCursor(text: $0) }
        filter.runId = query.text("workflowRunId")
        let url = query.text("workflowUrl")
        let name = query.text("workflow")
        if let url, let name, url != name { throw ProtocolError("give workflowUrl (an SDK run's endpoint) or workflow (a YAML workflow's name), not both") }
        filter.workflow = url ?? name
        filter.label = query.text("label")
        (filter.failedFrom, filter.failedUntil) = try query.dates()
    }
}
