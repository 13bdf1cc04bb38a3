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

    /// Every parameter a bulk action takes.
    private static let parameters = ["count", "cursor", "dlqIds"] + MessageDeadLetterQuery.filters

    /// The selection of `request`; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<MessageDeadLetterSelection, ErrorAnswer> {
        await RequestBody.json(request) { (body) throws(ProtocolError) in try selection(request.formParameters, body: body) }
    }

    private static func selection(_ query: Hummingbird.Parameters, body: Value) throws(ProtocolError) -> MessageDeadLetterSelection {
        let listing = ListingQuery(parameters: query)
        try listing.refuseUnknown(allowed: parameters, in: "a bulk action of the DLQ")
        try listing.refuseEmpty(["dlqIds"] + MessageDeadLetterQuery.filters)
        let page = try MessageDeadLetterQuery(query)
        let filtered = MessageDeadLetterQuery.filters.contains { listing.text($0) != nil }
        if let named = try listing.namedIds("dlqIds", body: body) {
            // A cursor beside ids (qstash-js forwards one) selects nothing more; count and filters would.
            if filtered || listing.text("count") != nil {
                throw ProtocolError("dlqIds names the entries; filters and count cannot be given with it")
            }
            return .ids(named)
        }
        guard filtered || listing.text("count") != nil else { throw ProtocolError("select the entries: dlqIds, filters, or ?count=N for any") }
        return .page(page)
    }
}
