import StepwiseExpressions

/// QStash's answer to one published message: `{messageId, url, deduplicated?}` (a single object
/// for `/v2/publish`, an array for `/v2/batch`; `parse_batch_response` in qstash-py
/// `qstash/message.py`, `deduplicated` read by workflow-js `src/workflow-requests.ts`).
public struct PublishAnswer: Sendable, Equatable {
    public var messageId: String
    /// The destination the message goes to.
    public var url: String
    /// `true` when the message (or the run it would start) already existed.
    public var deduplicated: Bool?

    /// An answer with the given parts.
    public init(messageId: String, url: String, deduplicated: Bool? = nil) {
        self.messageId = messageId
        self.url = url
        self.deduplicated = deduplicated
    }

    /// The JSON object; `deduplicated` only when set.
    public var json: Value {
        var map = ValueMap([("messageId", .string(messageId)), ("url", .string(url))])
        map.setIfPresent("deduplicated", deduplicated.map(Value.bool))
        return .map(map)
    }

    /// The JSON body of a batch answer.
    public static func batchJSONBytes(_ answers: [PublishAnswer]) -> [UInt8] {
        WireJSON.bytes(.list(answers.map(\.json)))
    }
}
