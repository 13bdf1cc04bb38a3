import StepwiseExpressions

/// How an invoked run ended, as the `out` of the parent's `Invoke` step:
/// `{"body", "isFailed"?, "isCanceled"?}` (workflow-js `src/context/steps.ts` `LazyInvokeStep`).
public struct InvokeResult: Sendable, Equatable {
    /// The child's final response text (the body of its cleanup `DELETE`), if any.
    public var body: String?
    public var isFailed: Bool?
    public var isCanceled: Bool?

    /// A result with the given parts.
    public init(body: String?, isFailed: Bool? = nil, isCanceled: Bool? = nil) {
        self.body = body
        self.isFailed = isFailed
        self.isCanceled = isCanceled
    }

    /// The JSON object; absent parts are left out.
    public var json: Value {
        var map = ValueMap()
        map.setIfPresent("body", body.map(Value.string))
        map.setIfPresent("isFailed", isFailed.map(Value.bool))
        map.setIfPresent("isCanceled", isCanceled.map(Value.bool))
        return .map(map)
    }

    /// Reads the JSON object.
    public init(json: Value) throws(ProtocolError) {
        let map = try WireJSON.object(json, what: "an invoke result")
        body = try map.string("body")
        isFailed = try map.boolean("isFailed")
        isCanceled = try map.boolean("isCanceled")
    }
}
