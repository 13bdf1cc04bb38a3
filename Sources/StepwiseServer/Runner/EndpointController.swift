import HTTPTypes
import Hummingbird
import StepwiseProtocol
import StepwiseRunner

/// `POST /workflows/{name}` of `stepwise runner`: the Upstash Workflow endpoint of each workflow.
/// The route only reads the request and writes the answer; `WorkflowEndpoint` decides.
struct EndpointController: Sendable {
    let endpoint: WorkflowEndpoint
    /// The public URL the endpoints are reached at (`--base-url`), or `nil` to take it from the
    /// request's `Host`.
    let baseURL: String?
    /// The largest delivery taken, which carries its run's whole log
    /// (`ConnectionLimits.maximumMessageBytes`); a request whose signature does not pass before its
    /// body is read (`WorkflowEndpoint.mayCarryDelivery`) is bounded by 1 MiB, so that no one
    /// without a valid signature makes the runner hold more.
    let maximumDeliveryBytes: Int

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.post("workflows/:name") { request, context in await handle(request, context) }
    }

    private func handle(_ request: Request, _ context: StepwiseRequestContext) async -> Response {
        let name = context.decoded("name") ?? ""
        let base = baseURL ?? "http://" + (request.head.authority ?? "localhost")
        let url = base + "/workflows/" + name
        let body: [UInt8]
        let delivery = endpoint.mayCarryDelivery(signature: request.headerFields["Upstash-Signature"], url: url)
        switch await RequestBody.bytes(request, upTo: delivery ? maximumDeliveryBytes : min(maximumDeliveryBytes, RequestBody.maximumBytes)) {
        case .success(let bytes): body = bytes
        case .failure(let answer):
            guard delivery, answer.response.status == .contentTooLarge else { return answer.response }
            // A delivery carries its run's whole log, which only grows: trying it again cannot help.
            return Self.response(EndpointReply.nonRetryable(
                type: "DeliveryTooLarge",
                "the delivery (the run's log) is larger than \(maximumDeliveryBytes) bytes, this runner's --max-delivery-bytes; "
                    + "raise it and resume the run from the DLQ"))
        }
        let headers = HeaderFields(request.headers.map { ($0.name.canonicalName, $0.value) })
        return Self.response(await endpoint.handle(EndpointRequest(workflow: name, url: url, headers: headers, body: body)))
    }

    /// `reply` as an HTTP response: its status, headers and JSON body.
    private static func response(_ reply: EndpointReply) -> Response {
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        for (name, value) in reply.headers {
            if let field = HTTPField.Name(name) { fields.append(HTTPField(name: field, value: value)) }
        }
        return Response(
            status: HTTPResponse.Status(code: reply.status), headers: fields,
            body: ResponseBody(byteBuffer: ByteBuffer(string: reply.body.jsonText() + "\n")))
    }
}
