import StepwiseExpressions

/// What a `context.call` got back, as the `out` of its `Call` step: `{"status", "body", "header"}`
/// with `body` the decoded response text (workflow-js `src/workflow-requests.ts`
/// `handleThirdPartyCallResult`).
public struct CallResponse: Sendable, Equatable {
    public var status: Int64
    /// The response body as text (the SDK decodes the callback's base64 before writing it).
    public var body: String
    /// Response headers as lists, `nil` when the callback carried none.
    public var header: [(name: String, values: [String])]?

    /// A response with the given parts.
    public init(status: Int64, body: String, header: [(name: String, values: [String])]? = nil) {
        self.status = status
        self.body = body
        self.header = header
    }

    /// The JSON object, members in the SDK's order.
    public var json: Value {
        var map = ValueMap([("status", .int(status)), ("body", .string(body))])
        map.setIfPresent("header", header.map(HeaderLists.json))
        return .map(map)
    }

    /// Reads the JSON object; `status` is required.
    public init(json: Value) throws(ProtocolError) {
        let map = try WireJSON.object(json, what: "a call response")
        guard let status = try map.integer("status") else { throw ProtocolError("'status' is missing") }
        self.status = status
        body = try map.string("body") ?? ""
        header = try HeaderLists.read(map[.string("header")], what: "'header'")
    }

    public static func == (lhs: CallResponse, rhs: CallResponse) -> Bool {
        lhs.json == rhs.json
    }
}
