import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/events` asks for, as QStash's clients name it: `count` (from 1; 1,000, the
/// default, at most), `cursor`, and the filters `messageId` and `messageIds` (repeated), `state`,
/// `url`, `topicName`, `queueName`, `scheduleId`, `label`, `host`, `path`, `flowControlKey` (each of
/// several values, `ListingQuery.messageMatch`), `fromDate` and `toDate` (unix milliseconds,
/// inclusive), `callerIp` or `callerIP`. An empty value is no value.
struct MessageEventQuery {
    var filter = MessageEventFilter()
    /// The page starts below this event (the previous page's `cursor`).
    var before: Int64?
    var count = MessageEventFilter.maximumPage
    /// A state QStash logs and Stepwise does not (`statesNotLogged`): no event matches.
    var matchesNothing = false

    /// States of QStash's log that Stepwise does not record: a delivery under way, a cancel asked for.
    static let statesNotLogged: Set<String> = ["ACTIVE", "CANCEL_REQUESTED"]

    /// QStash's filter of the events of a message on its way: ACTIVE (not logged here), RETRY, ERROR.
    static let inProgress = "IN_PROGRESS"

    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        count = try query.count(maximum: MessageEventFilter.maximumPage)
        before = try query.cursor { text in Int64(text).flatMap { $0 > 0 ? $0 : nil } }
        if let text = try query.single("state") {
            if let state = MessageEvent.State(rawValue: text) {
                filter.states = [state]
            } else if text == Self.inProgress {
                filter.states = [.retry, .error]
            } else if Self.statesNotLogged.contains(text) {
                matchesNothing = true
            } else {
                let known = MessageEvent.State.allCases.map(\.rawValue) + Self.statesNotLogged.sorted() + [Self.inProgress]
                throw ProtocolError("unknown state '\(text)'; QStash's are \(known.joined(separator: ", "))")
            }
        }
        filter.messageIds = query.texts("messageId") + query.texts("messageIds")
        filter.match = try query.messageMatch()
        (filter.from, filter.until) = try query.dates()
    }
}
