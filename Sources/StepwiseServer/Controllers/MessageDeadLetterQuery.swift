import Hummingbird
import StepwiseEngine
import StepwiseProtocol

/// What a query of `/v2/dlq` asks for, as QStash's clients name it: `count` (from 1; 100, the
/// default, at most), `cursor`, the filters `messageId`, `url`, `topicName`, `queueName`,
/// `scheduleId`, `label`, `responseStatus`, `fromDate` and `toDate` (unix milliseconds of the
/// failure, inclusive), and for a bulk retry `dlqIds` (repeated). An empty value is no value.
struct MessageDeadLetterQuery {
    var filter = MessageDeadLetterFilter()
    var cursor: PageCursor?
    var count = MessageDeadLetterFilter.maximumPage
    var ids: [String] = []

    /// QStash's filters of the DLQ that Stepwise does not apply, with why, beside
    /// `ListingQuery.unrecorded`: refused rather than ignored, which would take entries they do not match.
    static let unserved = [
        ("host", "filter on the destination with url"), ("path", "filter on the destination with url"),
        ("callerIP", "Stepwise does not record the address a request came from"),
    ]
    /// The filters read.
    static let filters = ["messageId", "url", "topicName", "queueName", "scheduleId", "label", "responseStatus", "fromDate", "toDate"]
    /// Every parameter a bulk retry takes: a page, its filters, or `dlqIds`.
    static let retryParameters = ["count", "cursor", "dlqIds"] + filters

    /// Reads `parameters`; an error names the parameter that is wrong.
    init(_ parameters: Hummingbird.Parameters) throws(ProtocolError) {
        let query = ListingQuery(parameters: parameters)
        try query.refuseUnserved(Self.unserved)
        count = try query.count(maximum: MessageDeadLetterFilter.maximumPage)
        cursor = try query.cursor { PageCursor(text: $0) }
        filter.messageId = try query.single("messageId")
        filter.match = try query.messageMatch()
        if let text = try query.single("responseStatus") {
            guard let status = Int(text) else { throw ProtocolError("responseStatus must be an HTTP status, such as 500") }
            filter.responseStatus = status
        }
        (filter.failedFrom, filter.failedUntil) = try query.dates()
        ids = query.texts("dlqIds")
    }
}
