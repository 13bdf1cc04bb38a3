import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which plain messages `DELETE /v2/messages` cancels, as QStash's API and clients ask: those
/// `messageIds` names (a JSON body `{"messageIds": [...]}`, or the query, repeated), or those the
/// query's filters take (`url`, `topicName`, `queueName`, `scheduleId`, `label`, each of several
/// values, repeated or comma-separated, matching any; `fromDate`/`toDate`, unix ms of the
/// publish, inclusive; `count`, at most 500, oldest first), or with neither every plain message.
/// What would widen a cancel is refused: a filter Stepwise cannot apply, an unknown parameter,
/// an empty value, ids beside filters.
struct PlainMessageSelection {
    /// The messages named, or `nil` for those `filter` takes.
    var ids: [String]?
    var filter = PlainMessageFilter()

    /// The most messages one cancel by filter takes, as QStash allows.
    static let maximumCount = 500
    private static let filters = ["url", "topicName", "queueName", "scheduleId", "label", "fromDate", "toDate", "count"]
    private static let unserved = [
        ("host", "filter on the destination with url"), ("path", "filter on the destination with url"),
        ("callerIP", "Stepwise does not record the address a request came from"),
    ]

    /// The selection `request` makes; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<PlainMessageSelection, ErrorAnswer> {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return .failure(answer)
        }
        var selection = PlainMessageSelection()
        let query = ListingQuery(parameters: request.uri.queryParameters)
        do throws(ProtocolError) {
            try query.refuseUnserved(unserved)
            try query.refuseUnknown(allowed: ["messageIds"] + filters, in: "a bulk cancel of messages")
            try query.refuseEmpty(["messageIds"] + filters)
            let named = try query.values("messageIds")
            let filtered = filters.contains { query.text($0) != nil }
            if !named.isEmpty { selection.ids = named }
            if filtered {
                guard named.isEmpty, body == .null else { throw ProtocolError("messageIds names the messages; filters cannot be given with it") }
                selection.filter = try filter(query)
            }
        } catch {
            return .failure(ErrorAnswer(.badRequest, error.message))
        }
        switch body {
        case .null: return .success(selection)
        case .map:
            guard selection.ids == nil, let named = RequestBody.strings(in: body, member: "messageIds") else {
                return .failure(ErrorAnswer(.badRequest, "the body needs 'messageIds', a list of message ids, and then no messageIds in the query"))
            }
            selection.ids = named
            return .success(selection)
        default:
            return .failure(ErrorAnswer(.badRequest, "the body must be {\"messageIds\": [...]}; send no body, or filters in the query"))
        }
    }

    private static func filter(_ query: ListingQuery) throws(ProtocolError) -> PlainMessageFilter {
        var filter = PlainMessageFilter()
        filter.match = try query.messageMatch()
        (filter.createdFrom, filter.createdUntil) = try query.dates()
        filter.count = query.text("count") == nil ? nil : try query.count(maximum: maximumCount)
        return filter
    }
}
