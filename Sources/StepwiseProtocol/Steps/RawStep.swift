import StepwiseExpressions

/// One entry of a run's log as it travels in a delivery body: `{messageId, body, callType}` with
/// `body` the base64 of the exact bytes the SDK published (`src/types.ts` `RawStep`).
public struct RawStep: Sendable, Equatable {
    /// The id of the message that appended the entry (`msg_…`).
    public var messageId: String
    /// The published bytes, kept exactly: the initial payload, a step JSON or a call body.
    public var body: [UInt8]
    /// What the entry is.
    public var callType: CallType

    /// An entry with the given fields.
    public init(messageId: String, body: [UInt8], callType: CallType = .step) {
        self.messageId = messageId
        self.body = body
        self.callType = callType
    }

    /// The entry as its JSON object; the member order is the one the SDK tests build.
    public var json: Value {
        .map(ValueMap([
            ("messageId", .string(messageId)), ("body", .string(WireJSON.base64(body))),
            ("callType", .string(callType.rawValue)),
        ]))
    }

    /// Reads one entry; `callType` may be absent (it defaults to `step`, as in lazily fetched
    /// logs of older servers) but must be known when present.
    public init(json: Value) throws(ProtocolError) {
        let map = try WireJSON.object(json, what: "a raw step")
        guard let messageId = try map.string("messageId") else { throw ProtocolError("'messageId' is missing") }
        let encoded = try map.string("body") ?? ""
        self.messageId = messageId
        body = try WireJSON.unbase64(encoded, what: "'body'")
        callType = try map.string("callType").map { (text) throws(ProtocolError) in try CallType(wire: text) } ?? .step
    }

    /// The body as a step JSON; an error when this entry is not one (the initial payload, a call).
    public func step() throws(ProtocolError) -> StepJSON {
        try StepJSON(bytes: body)
    }
}
