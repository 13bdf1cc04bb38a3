import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/events` asks for, as QStash's clients name it: `count` (from 1; 1,000, the
/// default, at most), `cursor`, and the filters `messageId` and `messageIds` (repeated), `state`,
/// `url`, `topicName`, `queueName`, `scheduleId`, `label`, `fromDate` and `toDate` (unix
/// milliseconds, inclusive). An empty value filters on nothing.
struct MessageEventQuery {
    var filter = MessageEventFilter()
    /// The page starts below this event (the previous page's `cursor`).
    var before: Int64?
    var count = MessageEventFilter.maximumPage
    /// A state QStash logs and Stepwise does not (`ACTIVE`, `IN_PROGRESS`, `CANCEL_REQUESTED`):
    /// no event matches.
    var matchesNothing = false

    /// States of QStash's log that Stepwise does not record.
    static let statesNotLogged: Set<String> = ["ACTIVE", "IN_PROGRESS", "CANCEL_REQUESTED"]

    /// Reads `query`; an error names the parameter that is wrong.
    init(_ query: Hummingbird.Parameters) throws(ProtocolError) {
        if let text = query["count"], !text.isEmpty {
            guard let count = Int(text), count >= 1 else { throw ProtocolError("count must be a whole number from 1") }
            self.count = min(count, MessageEventFilter.maximumPage)
        }
        if let text = query["cursor"], !text.isEmpty {
            guard let before = Int64(text), before > 0 else {
                throw ProtocolError("cursor is not one this API gave out; pass the `cursor` of the previous page as it is")
            }
            self.before = before
        }
        if let text = query["state"], !text.isEmpty {
            if let state = MessageEvent.State(rawValue: String(text)) {
                filter.state = state
            } else if Self.statesNotLogged.contains(String(text)) {
                matchesNothing = true
            } else {
                let known = MessageEvent.State.allCases.map(\.rawValue) + Self.statesNotLogged.sorted()
                throw ProtocolError("unknown state '\(text)'; QStash's are \(known.joined(separator: ", "))")
            }
        }
        filter.messageIds = (query.getAll("messageId") + query.getAll("messageIds")).filter { !$0.isEmpty }
        let texts: [(String, WritableKeyPath<MessageEventFilter, String?>)] = [
            ("url", \.url), ("topicName", \.urlGroup), ("queueName", \.queue), ("scheduleId", \.scheduleId), ("label", \.label),
        ]
        for (name, keyPath) in texts { filter[keyPath: keyPath] = query[Substring(name)].flatMap { $0.isEmpty ? nil : String($0) } }
        for (name, keyPath) in [("fromDate", \MessageEventFilter.from), ("toDate", \MessageEventFilter.until)] {
            guard let text = query[Substring(name)], !text.isEmpty else { continue }
            guard let milliseconds = Int64(text) else { throw ProtocolError("\(name) must be unix milliseconds") }
            filter[keyPath: keyPath] = milliseconds
        }
    }
}
