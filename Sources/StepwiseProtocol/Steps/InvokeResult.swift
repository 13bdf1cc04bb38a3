import StepwiseExpressions

/// How an invoked run ended, as the `out` of the parent's `Invoke` step:
/// `{"body", "isFailed", "isCanceled"}` (workflow-js `src/context/steps.ts` `LazyInvokeStep`).
/// QStash sends both flags whatever the end, and a body only for a child that succeeded
/// (workflow-js `examples/ci` `invoke`); `error` is Stepwise's own member, the failed child's error.
public struct InvokeResult: Sendable, Equatable {
    /// The child's final response text (the body of its cleanup `DELETE`), if any.
    public var body: String?
    public var isFailed: Bool?
    public var isCanceled: Bool?
    /// A failed or canceled child's error as JSON text, for runners that report it (`stepwise
    /// runner`'s `steps.<id>.error`); the SDKs pass it on in the result object untouched.
    public var error: String?

    /// A result with the given parts.
    public init(body: String?, isFailed: Bool? = nil, isCanceled: Bool? = nil, error: String? = nil) {
        self.body = body
        self.isFailed = isFailed
        self.isCanceled = isCanceled
        self.error = error
    }

    /// The result QStash delivers when a child ended with `status`: the output's text for a child
    /// that succeeded, both flags always; Stepwise adds the error of a child that failed or was canceled.
    public init(ended status: InvokedEnd, output: String?, error: String?) {
        switch status {
        case .succeeded: self.init(body: output, isFailed: false, isCanceled: false)
        case .failed: self.init(body: nil, isFailed: true, isCanceled: false, error: error)
        case .canceled: self.init(body: nil, isFailed: false, isCanceled: true, error: error)
        }
    }

    /// How an invoked child ended.
    public enum InvokedEnd: Sendable {
        /// It returned; its output is the result's body.
        case succeeded
        /// It failed for good.
        case failed
        /// It was canceled.
        case canceled
    }

    /// The JSON object; absent parts are left out.
    public var json: Value {
        var map = ValueMap()
        map.setIfPresent("body", body.map(Value.string))
        map.setIfPresent("isFailed", isFailed.map(Value.bool))
        map.setIfPresent("isCanceled", isCanceled.map(Value.bool))
        map.setIfPresent("error", error.map(Value.string))
        return .map(map)
    }

    /// Reads the JSON object.
    public init(json: Value) throws(ProtocolError) {
        let map = try WireJSON.object(json, what: "an invoke result")
        body = try map.string("body")
        isFailed = try map.boolean("isFailed")
        isCanceled = try map.boolean("isCanceled")
        error = try map.string("error")
    }
}
