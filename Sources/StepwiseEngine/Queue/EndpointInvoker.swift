import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// The parent of an invoked SDK run (§6.5), as the store keeps it with the child: the parent's
/// pending `Invoke` step and how to deliver its result, which the child's end publishes.
public struct EndpointInvoker: Sendable, Codable, Equatable {
    /// The run whose step invoked this one.
    public var parentRunId: String
    /// The parent's workflow URL and the headers its result is published with.
    public var url: String
    public var headers: [ForwardedHeader]
    /// The pending step's JSON text.
    public var step: String

    /// The invoker described by an invoke trigger's body.
    public init(_ request: InvokeRequest) {
        parentRunId = request.workflowRunId
        url = request.workflowUrl
        headers = request.headers.map { ForwardedHeader($0.name, $0.value) }
        step = String(decoding: request.step.bytes, as: UTF8.self)
    }

    /// The publish that completes the parent's step when the child ended with `status`: the
    /// `Invoke` result (`InvokeResult(ended:)`: the child's output as JSON text, or its error),
    /// delivered to the parent's URL.
    public func resolution(status: RunStatus, output: Value?, error: StepError?) throws(ProtocolError) -> PublishedMessage {
        let end: InvokeResult.InvokedEnd
        switch status {
        case .failed: end = .failed
        case .canceled: end = .canceled
        case .succeeded, .running: end = .succeeded
        }
        let result = InvokeResult(ended: end, output: output?.jsonText(), error: error?.value.jsonText())
        let step = try StepJSON(bytes: Array(step.utf8)).resolved(with: .invokeResult(result))
        var fields = HeaderFields(headers.map { ($0.name, $0.value) })
        fields.remove("Upstash-Workflow-Init")
        fields.append("Upstash-Workflow-Init", "false")
        return try PublishedMessage(destination: url, headers: fields, body: step.bytes)
    }
}
