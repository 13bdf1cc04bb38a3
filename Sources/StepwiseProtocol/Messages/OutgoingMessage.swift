import StepwiseExpressions

/// A message a workflow endpoint asks QStash to deliver (§4.6): one item of `POST /v2/batch`
/// (§2.7) or the request of `POST /v2/publish/{destination}`. The headers are the message's
/// options (`Upstash-*`) and the headers to forward (`Upstash-Forward-*`).
public struct OutgoingMessage: Sendable, Equatable {
    /// Where QStash delivers it: the workflow URL, or a third party for a call.
    public var destination: String
    /// The message's options and the headers to forward.
    public var headers: HeaderFields
    /// The bytes to deliver; `nil` for none.
    public var body: [UInt8]?

    /// A message with the given parts.
    public init(destination: String, headers: HeaderFields, body: [UInt8]?) {
        self.destination = destination
        self.headers = headers
        self.body = body
    }

    /// The message as a batch item `{destination, headers, body}`; the body travels as text, so
    /// it must be UTF-8 (every body a runner sends is JSON).
    public var batchItem: Value {
        var map = ValueMap([
            ("destination", .string(destination)),
            ("headers", .map(ValueMap(headers.fields.map { ($0.name, Value.string($0.value)) }))),
        ])
        map.setIfPresent("body", body.map { .string(String(decoding: $0, as: UTF8.self)) })
        return .map(map)
    }

    /// The body of `POST /v2/batch` carrying `messages`.
    public static func batchBody(_ messages: [OutgoingMessage]) -> [UInt8] {
        WireJSON.bytes(.list(messages.map(\.batchItem)))
    }
}
