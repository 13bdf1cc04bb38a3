import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/dlq` asks for, as QStash's clients name it: `count` (from 1; 100, the
/// default, at most), `cursor`, the filters `messageId`, `url`, `topicName`, `queueName`, `scheduleId`, `label`,
/// `responseStatus`, `fromDate` and `toDate` (unix milliseconds, inclusive), and for a bulk retry
/// `dlqIds` (repeated).
struct MessageDeadLetterQuery {
    var filter = MessageDeadLetterFilter()
    var cursor: PageCursor?
    var count = MessageDeadLetterFilter.maximumPage
    var ids: [String] = []

    /// Reads `query`; an error names the parameter that is wrong.
    init(_ query: Hummingbird.Parameters) throws(ProtocolError) {
        if let text = query["count"] {
            guard let count = Int(text), count >= 1 else { throw ProtocolError("count must be a whole number from 1") }
            self.count = min(count, MessageDeadLetterFilter.maximumPage)
        }
        if let text = query["cursor"], !text.isEmpty {
            guard let cursor = PageCursor(text: String(text)) else {
                throw ProtocolError("cursor is not one this API gave out; pass the `cursor` of the previous page as it is")
            }
            self.cursor = cursor
        }
        if query["callerIp"] != nil {
            throw ProtocolError("callerIp cannot filter here: Stepwise does not record the address a message was published from")
        }
        let texts: [(String, WritableKeyPath<MessageDeadLetterFilter, String?>)] = [
            ("messageId", \.messageId), ("url", \.url), ("topicName", \.urlGroup), ("queueName", \.queue), ("scheduleId", \.scheduleId),
            ("label", \.label),
        ]
        // An empty value (`?label=`) filters on nothing, as an empty cursor pages from the start.
        for (name, keyPath) in texts { filter[keyPath: keyPath] = query[Substring(name)].flatMap { $0.isEmpty ? nil : String($0) } }
        if let text = query["responseStatus"], !text.isEmpty {
            guard let status = Int(text) else { throw ProtocolError("responseStatus must be an HTTP status, such as 500") }
            filter.responseStatus = status
        }
        for (name, keyPath) in [("fromDate", \MessageDeadLetterFilter.failedFrom), ("toDate", \MessageDeadLetterFilter.failedUntil)] {
            guard let text = query[Substring(name)], !text.isEmpty else { continue }
            guard let milliseconds = Int64(text) else { throw ProtocolError("\(name) must be unix milliseconds") }
            filter[keyPath: keyPath] = milliseconds
        }
        ids = query.getAll("dlqIds").filter { !$0.isEmpty }
    }
}
