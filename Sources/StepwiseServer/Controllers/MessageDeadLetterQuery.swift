import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/dlq` asks for, as QStash's clients name it: `count` (from 1; 100, the
/// default, at most), `cursor`, the filters `messageId`, `responseStatus`, `fromDate` and `toDate`
/// (unix milliseconds of the failure, inclusive) and the message filters of
/// `ListingQuery.messageMatch` (`url`, `topicName`, `queueName`, `scheduleId`, `label`, `host`,
/// `path`, `flowControlKey`, `callerIp`). An empty value is no value.
struct MessageDeadLetterQuery {
    var filter = MessageDeadLetterFilter()
    var cursor: PageCursor?
    var count = MessageDeadLetterFilter.maximumPage

    /// The filters read.
    static let filters = ["messageId", "responseStatus", "fromDate", "toDate"] + ListingQuery.messageFilters
    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        count = try query.count(maximum: MessageDeadLetterFilter.maximumPage)
        cursor = try query.cursor { PageCursor(text: $0) }
        filter.messageId = try query.single("messageId")
        filter.match = try query.messageMatch()
        if let text = try query.single("responseStatus") {
            guard let status = Int(text) else { throw ProtocolError("responseStatus must be an HTTP status, such as 500") }
            filter.responseStatus = status
        }
        (filter.failedFrom, filter.failedUntil) = try query.dates()
    }
}
