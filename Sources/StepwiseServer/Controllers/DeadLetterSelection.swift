import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which workflow DLQ entries a bulk action of Upstash's client takes (`POST
/// /v2/workflows/dlq/resume`, `…/restart`, `DELETE /v2/workflows/dlq`): the entries `dlqIds` names
/// (repeated in the query, or a JSON body `{"dlqIds": [...]}`; at most a page of them), or a page of
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
        do {
            if let selection = try DeadLetterSelection(request.uri.queryParameters) { return .success(selection) }
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
        switch await RequestBody.json(request) {
        case .failure(let answer): return .failure(answer)
        case .success(let body):
            guard let ids = RequestBody.strings(in: body, member: "dlqIds") else { return .failure(ErrorAnswer(.badRequest, help)) }
            do {
                return .success(.ids(try named(ids)))
            } catch {
                return .failure(ErrorAnswer(.badRequest, error.message))
            }
        }
    }

    /// The selection of the query; `nil` when it selects nothing (the body may).
    private init?(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        try query.refuseUnknown(allowed: ["dlqIds"] + DeadLetterQuery.parameters + DeadLetterQuery.unservedNames, in: "a bulk DLQ action")
        // An empty filter would select more; an empty count or cursor selects nothing more.
        try query.refuseEmpty(["dlqIds"] + DeadLetterQuery.filters)
        let page = try DeadLetterQuery(parameters)
        let ids = query.texts("dlqIds")
        guard !ids.isEmpty else {
            guard DeadLetterQuery.parameters.contains(where: { query.text($0) != nil }) else { return nil }
            self = .page(page)
            return
        }
        if let mixed = DeadLetterQuery.parameters.first(where: { query.text($0) != nil }) {
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
