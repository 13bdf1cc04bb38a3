import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which workflow DLQ entries a bulk action of Upstash's client takes (`POST
/// /v2/workflows/dlq/resume`, `…/restart`, `DELETE /v2/workflows/dlq`): the entries `dlqIds` names
/// (repeated or comma-separated in the query, or a JSON body `{"dlqIds": [...]}`, not both; at
/// most a page of them), or a page of
/// the entries a `DeadLetterQuery` matches (its filters, `count` and `cursor`; `count` alone takes
/// every entry, as the client's `{all: true}` does). A request that selects nothing, gives
/// `dlqIds` or a filter without a value, or a parameter it does not take, is refused: it would
/// otherwise act on more entries than meant.
enum DeadLetterSelection {
    case ids([String])
    case page(DeadLetterQuery)

    private static let help = "select the entries: ?dlqIds=…, filters (label, workflowUrl, fromDate, …) with count, or ?count=N for any"

    /// Reads the selection of `request`; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<DeadLetterSelection, ErrorAnswer> {
        await RequestBody.json(request) { (body) throws(ProtocolError) in try DeadLetterSelection(request.formParameters, body: body) }
    }

    /// The selection of the query and body: the ids named (`ListingQuery.namedIds`), which no
    /// page parameter may come with, or else the page the query asks for.
    private init(_ parameters: Hummingbird.Parameters, body: Value) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        try query.refuseUnknown(allowed: ["dlqIds"] + DeadLetterQuery.parameters + DeadLetterQuery.unservedNames, in: "a bulk DLQ action")
        // An empty filter would select more; an empty count or cursor selects nothing more.
        try query.refuseEmpty(["dlqIds"] + DeadLetterQuery.filters)
        let page = try DeadLetterQuery(parameters)
        let given = DeadLetterQuery.parameters.first { query.text($0) != nil }
        guard let ids = try query.namedIds("dlqIds", body: body) else {
            guard given != nil else { throw ProtocolError(Self.help) }
            self = .page(page)
            return
        }
        if let mixed = given {
            throw ProtocolError("dlqIds names the entries; \(mixed) cannot be given with it (filter, count and cursor select a page instead)")
        }
        self = .ids(try Self.named(ids))
    }

    private static func named(_ ids: [String]) throws(ProtocolError) -> [String] {
        guard !ids.isEmpty, !ids.contains("") else { throw ProtocolError("dlqIds must be a non-empty list of DLQ entry ids") }
        guard ids.count <= DeadLetterFilter.maximumPage else {
            throw ProtocolError("give at most \(DeadLetterFilter.maximumPage) dlqIds in one request")
        }
        return ids
    }
}
