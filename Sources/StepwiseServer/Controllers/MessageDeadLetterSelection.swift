import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which entries of the plain messages' DLQ a bulk delete or retry takes (`DELETE /v2/dlq`, `POST
/// /v2/dlq/retry`), as QStash's clients ask: those `dlqIds` names (`ListingQuery.namedIds`), or
/// one page of those the listing's filters match (`count`, `cursor`; `count` alone takes any
/// entry, as the clients' `{all: true}` does). What would act on more than meant is refused: a
/// request that selects nothing, an unknown parameter, an empty filter, ids beside filters or
/// `count` (a `cursor` beside ids is ignored).
enum MessageDeadLetterSelection {
    case ids([String])
    case page(MessageDeadLetterQuery)

    /// Every parameter a bulk action takes; the unserved filters are named so that their refusal
    /// says why.
    private static let parameters = ["count", "cursor", "dlqIds"] + MessageDeadLetterQuery.filters
        + (ListingQuery.unrecorded + ListingQuery.unservedMessageFilters).map(\.0)

    /// The selection of `request`; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<MessageDeadLetterSelection, ErrorAnswer> {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        do throws(ProtocolError) {
            let listing = ListingQuery(parameters: request.uri.queryParameters)
            try listing.refuseUnknown(allowed: parameters, in: "a bulk action of the DLQ")
            try listing.refuseEmpty(["dlqIds"] + MessageDeadLetterQuery.filters)
            let query = try MessageDeadLetterQuery(request.uri.queryParameters)
            let filtered = MessageDeadLetterQuery.filters.contains { listing.text($0) != nil }
            if let named = try listing.namedIds("dlqIds", body: body) {
                // A cursor beside ids (qstash-js forwards one) selects nothing more; count and filters would.
                if filtered || listing.text("count") != nil {
                    throw ProtocolError("dlqIds names the entries; filters and count cannot be given with it")
                }
                return .success(.ids(named))
            }
            guard filtered || listing.text("count") != nil else { throw ProtocolError("select the entries: dlqIds, filters, or ?count=N for any") }
            return .success(.page(query))
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
    }
}
