import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// Executes an `http` step: builds the request (secrets resolved at send time, an
/// `Idempotency-Key` stable across retries), sends it, turns the response into
/// `{status, headers, body}`, and decides between success, another attempt, and failure.
struct HTTPStepExecutor {
    let interpreter: WorkflowInterpreter
    let request: HTTPRequest
    let step: Step
    let path: String

    /// Statuses retried when a step has no `retry.on`: rate limiting and gateway trouble.
    static let retriedStatuses: Set<Int> = [429, 502, 503, 504]
    static let defaultTimeout = DurationValue.seconds(30)

    func execute(_ context: WorkflowContext, _ state: ExecutionState) async throws(ExecutionSignal) -> Value {
        if let entry = try replay(context) {
            if let error = entry.error { throw .failed(error) }
            return entry.out ?? .null
        }
        // Never send a request while only rebuilding state (before on_failure).
        guard context.acceptsNewSteps else { throw .interrupted(.journalExhausted) }
        let outgoing = try build(context, state)
        let sent: Result<IncomingResponse, TransportFailure>
        do {
            sent = .success(try await interpreter.http.send(outgoing))
        } catch {
            sent = .failure(error)
        }
        let failure: StepError
        var retryAfter: DurationValue?
        switch sent {
        case .success(let response):
            guard let error = classify(response) else { try submit(context, out: Self.result(of: response), error: nil) }
            failure = error
            retryAfter = Self.retryAfter(response)
        case .failure(let error):
            failure = StepError(message: error.message, type: error.kind.rawValue, step: path)
        }
        let policy = RetrySchedule(step: step, workflow: interpreter.workflow)
        if policy.allowsRetry(after: context.attempt, for: failure) {
            throw .interrupted(.retry(after: policy.delay(afterAttempt: context.attempt, retryAfter: retryAfter), error: failure))
        }
        try submit(context, out: nil, error: failure)
    }

    private func replay(_ context: WorkflowContext) throws(ExecutionSignal) -> JournalEntry? {
        do {
            return try context.replay(path, .run)
        } catch {
            throw .interrupted(error)
        }
    }

    private func submit(_ context: WorkflowContext, out: Value?, error: StepError?) throws(ExecutionSignal) -> Never {
        do {
            try context.submit(path, .run, out: out, error: error)
        } catch {
            throw .interrupted(error)
        }
    }

    private func build(_ context: WorkflowContext, _ state: ExecutionState) throws(ExecutionSignal) -> OutgoingRequest {
        let plain = ValueRenderer(variables: state.variables, secrets: nil)
        let withSecrets = ValueRenderer(variables: state.variables, secrets: interpreter.secrets)
        do {
            var url = try plain.text(request.url)
            if !request.query.isEmpty {
                var items: [String] = []
                for item in request.query { items.append("\(Self.encode(item.name))=\(Self.encode(try plain.text(item.value)))") }
                url += (url.contains("?") ? "&" : "?") + items.joined(separator: "&")
            }
            var headers: [(name: String, value: String)] = [("Idempotency-Key", "\(context.runId)/\(path)")]
            var body: [UInt8]?
            if let bodyTemplate = request.body {
                let value = try plain.render(bodyTemplate)
                if case .string(let text) = value {
                    body = Array(text.utf8)
                    headers.append(("Content-Type", "text/plain; charset=utf-8"))
                } else {
                    body = Array(value.jsonText().utf8)
                    headers.append(("Content-Type", "application/json"))
                }
            }
            if let auth = request.auth { headers.append(("Authorization", try authorization(auth, withSecrets))) }
            for header in request.headers {
                let value = try withSecrets.text(header.value)
                headers.removeAll { $0.name.lowercased() == header.name.lowercased() }
                headers.append((header.name, value))
            }
            let timeout = step.timeout?.value ?? request.timeout?.value ?? Self.defaultTimeout
            return OutgoingRequest(method: request.method.value, url: url, headers: headers, body: body, timeout: timeout)
        } catch {
            throw .failed(StepError(message: error.message, type: "ExpressionError", step: path))
        }
    }

    private func authorization(_ auth: HTTPAuthentication, _ renderer: ValueRenderer) throws(EvaluationError) -> String {
        switch auth {
        case .bearer(let token):
            return "Bearer " + (try renderer.text(token))
        case .basic(let username, let password):
            let credentials = try renderer.text(username) + ":" + renderer.text(password)
            return "Basic " + Data(credentials.utf8).base64EncodedString()
        }
    }

    /// `nil` when the response is the step's result, otherwise why the step failed.
    private func classify(_ response: IncomingResponse) -> StepError? {
        let failed: Bool
        if let expected = request.expectedStatuses {
            failed = !expected.contains(response.status)
        } else {
            failed = response.status >= 500 || response.status == 429
        }
        guard failed else { return nil }
        let snippet = String(decoding: response.body.prefix(200), as: UTF8.self)
        return StepError(
            message: "HTTP \(response.status) from \(request.method.value) request" + (snippet.isEmpty ? "" : ": \(snippet)"),
            type: "HTTPError", step: path, status: response.status)
    }

    /// `{status, headers, body}`: the body as JSON when it parses (or `response: json`), else text.
    static func result(of response: IncomingResponse) -> Value {
        var headers = ValueMap()
        for header in response.headers { headers[.string(header.name.lowercased())] = .string(header.value) }
        let text = String(decoding: response.body, as: UTF8.self)
        let isJSON = response.header("content-type")?.contains("json") ?? false
        let body = isJSON ? ((try? Value(json: text)) ?? .string(text)) : .string(text)
        return ["status": .int(Int64(response.status)), "headers": .map(headers), "body": body]
    }

    /// `Retry-After` in seconds (HTTP dates are rare from APIs and read as absent).
    static func retryAfter(_ response: IncomingResponse) -> DurationValue? {
        guard let text = response.header("retry-after"), let seconds = Int64(text.trimmingCharacters(in: .whitespaces)), seconds >= 0 else {
            return nil
        }
        return .seconds(min(seconds, 86_400))
    }

    private static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlQueryAllowed.subtracting(CharacterSet(charactersIn: "&=+"))) ?? text
    }
}

extension DurationValue {
    /// A whole number of seconds (within range by construction for the values used here).
    static func seconds(_ count: Int64) -> DurationValue {
        (try? DurationValue(nanoseconds: Int128(count) * 1_000_000_000)) ?? .zero
    }

    /// A duration from fractional seconds, clamped to one day.
    static func seconds(fraction: Double) -> DurationValue {
        let clamped = max(0, min(fraction, 86_400))
        return (try? DurationValue(nanoseconds: Int128(clamped * 1e9))) ?? .zero
    }
}
