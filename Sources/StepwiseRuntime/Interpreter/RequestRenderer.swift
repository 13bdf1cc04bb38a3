import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// Renders the request of an `http` or `call` step with the run's variables: URL with query,
/// body (JSON, or text for a string), an `Idempotency-Key` of `<runId>/<path>` stable across
/// retries and restarts, and headers whose secrets stay references until the request is sent.
struct RequestRenderer {
    let request: HTTPRequest
    let variables: [String: Value]
    var limits = EvaluationLimits.standard

    func render(runId: String, path: String, timeout: DurationValue) throws(EvaluationError) -> CallRequest {
        let plain = ValueRenderer(variables: variables, secrets: nil, limits: limits)
        var url = try plain.text(request.url)
        if !request.query.isEmpty {
            var items: [String] = []
            for item in request.query { items.append("\(QueryValue.escaped(item.name))=\(QueryValue.escaped(try plain.text(item.value)))") }
            // The query goes before a fragment: after it, no HTTP client sends it.
            let fragment = url.firstIndex(of: "#") ?? url.endIndex
            let base = url[..<fragment]
            url = base + (base.contains("?") ? "&" : "?") + items.joined(separator: "&") + url[fragment...]
        }
        var headers = [CallHeader(name: "Idempotency-Key", value: .text("\(runId)/\(path)"))]
        var body: [UInt8]?
        if let bodyTemplate = request.body {
            let value = try plain.render(bodyTemplate)
            if case .string(let text) = value {
                body = Array(text.utf8)
                headers.append(CallHeader(name: "Content-Type", value: .text("text/plain; charset=utf-8")))
            } else {
                body = Array(value.jsonText().utf8)
                headers.append(CallHeader(name: "Content-Type", value: .text("application/json")))
            }
        }
        if let auth = request.auth { headers.append(CallHeader(name: "Authorization", value: try authorization(auth, plain))) }
        for header in request.headers {
            let value = try sendable(try headerValue(header.value, plain), as: header.name)
            headers.removeAll { $0.name.equalsIgnoringASCIICase(header.name) }
            headers.append(CallHeader(name: header.name, value: value))
        }
        return CallRequest(
            method: request.method.value, url: url, headers: headers, body: body, timeout: timeout, expectedStatuses: request.expectedStatuses,
            responseFormat: request.responseFormat)
    }

    private func authorization(_ auth: HTTPAuthentication, _ renderer: ValueRenderer) throws(EvaluationError) -> HeaderValue {
        switch auth {
        case .bearer(let token):
            return .bearer(try sendable(try headerValue(token, renderer), as: "Authorization"))
        case .basic(let username, let password):
            return .basic(try headerValue(username, renderer), try headerValue(password, renderer))
        }
    }

    private func headerValue(_ template: ValueTemplate, _ renderer: ValueRenderer) throws(EvaluationError) -> HeaderValue {
        if case .secret(let name) = template.kind { return .secret(name) }
        return .text(try renderer.text(template))
    }

    /// `value` as header `name`'s, when HTTP can carry it: one that cannot (a line break from the
    /// input, say) fails the step here, naming the header, rather than every attempt to send it.
    private func sendable(_ value: HeaderValue, as name: String) throws(EvaluationError) -> HeaderValue {
        guard case .text(let text) = value, !HTTPFieldSyntax.isValue(text) else { return value }
        throw EvaluationError("the value of header '\(name)' holds a line break or a control character", kind: .unsendable)
    }
}
