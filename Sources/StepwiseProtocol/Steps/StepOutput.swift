import StepwiseExpressions

/// The meaning of a step's `out` string, which depends on `stepType` (§4.2 of the protocol notes;
/// the SDK side is `parseStep`/`processRawSteps` in workflow-js `src/workflow-parser.ts`).
public enum StepOutput: Sendable, Equatable {
    /// `Run`, `Notify`, `CreateWebhook`: the JSON text of the returned value.
    case value(Value)
    /// `Call`: the third party's answer.
    case callResponse(CallResponse)
    /// `Wait`, `WaitForWebhook`: the base64 of the event body (the notify payload, or the webhook
    /// request JSON).
    case event([UInt8])
    /// `Invoke`: how the invoked run ended.
    case invokeResult(InvokeResult)

    /// The `out` string of this output.
    public var outText: String {
        switch self {
        case .value(let value): value.jsonText()
        case .callResponse(let response): response.json.jsonText()
        case .event(let body): WireJSON.base64(body)
        case .invokeResult(let result): result.json.jsonText()
        }
    }

    /// Decodes `out` of a step of type `stepType`; unknown types are read as JSON text.
    public init(out: String, stepType: String) throws(ProtocolError) {
        switch stepType {
        case "Wait", "WaitForWebhook":
            self = .event(try WireJSON.unbase64(out, what: "'out' of a \(stepType) step"))
        case "Call":
            self = .callResponse(try CallResponse(json: try Self.json(out, stepType)))
        case "Invoke":
            self = .invokeResult(try InvokeResult(json: try Self.json(out, stepType)))
        default:
            self = .value(try Self.json(out, stepType))
        }
    }

    private static func json(_ out: String, _ stepType: String) throws(ProtocolError) -> Value {
        try WireJSON.parse(Array(out.utf8), what: "'out' of a \(stepType) step")
    }
}
