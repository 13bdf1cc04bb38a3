import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// Which plain messages `DELETE /v2/messages` cancels, as QStash's API and clients ask: those
/// `messageIds` names (a JSON body `{"messageIds": [...]}`, or the query, repeated), or those the
/// query's filters take (`ListingQuery.messageMatch`: `url`, `topicName`, `queueName`,
/// `scheduleId`, `label`, `host`, `path`, `flowControlKey`, `callerIp`, each of several values,
/// matching any; `fromDate`/`toDate`, unix ms of the publish, inclusive; `count`, at most 500,
/// oldest first), or with neither every plain message. What would widen a cancel is refused: an
/// unknown parameter, an empty value, ids beside filters.
struct PlainMessageSelection {
    /// The messages named, or `nil` for those `filter` takes.
    var ids: [String]?
    var filter = PlainMessageFilter()

    /// The most messages one cancel by filter takes, as QStash allows.
    static let maximumCount = 500
    private static let filters = ListingQuery.messageFilters + ["fromDate", "toDate", "count"]

    /// The selection `request` makes; an error answer names what is wrong.
    static func read(_ request: Request) async -> Result<PlainMessageSelection, ErrorAnswer> {
        await RequestBody.json(request) { (body) throws(ProtocolError) in try selection(request.formParameters, body: body) }
    }

    private static func selection(_ parameters: Hummingbird.Parameters, body: Value) throws(ProtocolError) -> PlainMessageSelection {
        var selection = PlainMessageSelection()
        let query = ListingQuery(parameters: parameters)
        try query.refuseUnknown(allowed: ["messageIds"] + filters, in: "a bulk cancel of messages")
        try query.refuseEmpty(["messageIds"] + filters)
        selection.ids = try query.namedIds("messageIds", body: body)
        if filters.contains(where: { query.text($0) != nil }) {
            guard selection.ids == nil else { throw ProtocolError("messageIds names the messages; filters cannot be given with it") }
            selection.filter = try filter(query)
        }
        return selection
    }

    private static func filter(_ query: ListingQuery) throws(ProtocolError) -> PlainMessageFilter {
        var filter = PlainMessageFilter()
        filter.match = try query.messageMatch()
        (filter.createdFrom, filter.createdUntil) = try query.dates()
        filter.count = query.text("count") == nil ? nil : try query.count(maximum: maximumCount)
        return filter
    }
}
