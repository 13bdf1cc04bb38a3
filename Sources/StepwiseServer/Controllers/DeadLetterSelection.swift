import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// Which workflow DLQ entries a bulk action of Upstash's client takes (`POST
/// /v2/workflows/dlq/resume`, `…/restart`, `DELETE /v2/workflows/dlq`): the entries `dlqIds` names
/// (repeated, at most a page of them), or a page of the entries a `DeadLetterQuery` matches (its
/// filters, `count` and `cursor`; no filter takes every entry, as the client's `{all: true}` does).
enum DeadLetterSelection {
    case ids([String])
    case page(DeadLetterQuery)

    /// The parameters of a page, which named entries cannot be combined with.
    private static let pageParameters = ["count", "cursor", "workflowRunId", "workflowUrl", "url", "workflow", "label", "fromDate", "toDate", "failureFunctionState"]

    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let page = try DeadLetterQuery(parameters)
        let query = ListingQuery(parameters: parameters)
        let ids = query.texts("dlqIds")
        guard !ids.isEmpty else {
            self = .page(page)
            return
        }
        if let mixed = Self.pageParameters.first(where: { query.text($0) != nil }) {
            throw ProtocolError("dlqIds names the entries; \(mixed) cannot be given with it (filter, count and cursor select a page instead)")
        }
        guard ids.count <= DeadLetterFilter.maximumPage else {
            throw ProtocolError("give at most \(DeadLetterFilter.maximumPage) dlqIds in one request")
        }
        self = .ids(ids)
    }
}
