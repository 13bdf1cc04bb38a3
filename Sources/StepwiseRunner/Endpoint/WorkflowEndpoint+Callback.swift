import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Callbacks of `call` steps (§6.2): each try's answer is judged with the step's own rules
/// (`expect`, its retry policy); a result is published as the step, a failure worth retrying
/// hands the same request to QStash again after the policy's delay.
extension WorkflowEndpoint {
    func callback(_ request: EndpointRequest) async throws(EndpointReplyFailure) -> EndpointReply {
        let (runId, definition) = try pinnedRun(request)
        guard let stepId = request.headers["upstash-workflow-stepid"].flatMap({ Int($0) }), let stepName = request.headers["upstash-workflow-stepname"]
        else {
            return .nonRetryable(type: "WorkflowError", "a callback needs Upstash-Workflow-StepId and -StepName headers")
        }
        let answer: CallbackBody
        do {
            answer = try CallbackBody(jsonBytes: request.body)
        } catch {
            return .nonRetryable(type: "WorkflowError", "the callback body cannot be read: \(error.message)")
        }
        let attempt = request.headers[RunMessages.callAttemptHeader].flatMap { Int($0) } ?? 0
        let call = Self.callRequest(answer, request.headers)
        let operation = StepOperation(stepName: stepName, stepType: .call, kind: .call(call))
        let messages = messages(runId: runId, request, definition)
        do throws(OrchestratorFailure) {
            // As the engine's own calls are: a secret the workflow declares is redacted from the answer
            // even when the request carried none (the third party may know it and echo it).
            let redactor = SecretRedactor(secrets: definition.workflow.secrets.map(\.value).compactMap(secrets.value(of:)))
            let sent = Self.sent(answer, redactor)
            switch CallResolver(workflow: definition.workflow).resolve(operation, request: call, sent: sent, attempt: attempt, now: clock()) {
            case .completed(var entry):
                entry.stepId = stepId
                try await qstash.publish(messages.step(entry))
                events.record(.submitThirdPartyResult, runId: runId, ["stepId": .int(Int64(stepId)), "stepName": .string(stepName), "status": .int(answer.status)])
                return .done(runId, "fromCallback")
            case .retry(let at, _):
                let notBefore = QStashTime.notBefore(at)
                let again = OutgoingRequest(
                    method: answer.method, url: answer.url, headers: Self.requestHeaders(answer, request.headers),
                    body: answer.sourceBody.isEmpty ? nil : answer.sourceBody, timeout: call.timeout)
                try await qstash.batch([messages.call(again, call, stepId: stepId, stepName: stepName, attempt: attempt + 1, notBefore: notBefore)])
                return .done(runId, "call-will-retry")
            }
        } catch {
            events.record(.error, runId: runId, ["message": .string(error.message)])
            return .error(500, type: "QStashError", error.message)
        }
    }

    /// The parts of the call the callback's judgement needs, from the headers the runner set.
    private static func callRequest(_ answer: CallbackBody, _ headers: HeaderFields) -> CallRequest {
        let expected = headers[RunMessages.callExpectHeader].map { $0.split(separator: ",").compactMap { Int($0) } }
        let seconds = headers[RunMessages.callTimeoutHeader].flatMap { Int64($0) } ?? 30
        return CallRequest(
            method: answer.method, url: answer.url, headers: [], body: nil, timeout: .seconds(seconds), expectedStatuses: expected,
            responseFormat: headers[RunMessages.callResponseHeader])
    }

    /// The headers the call was sent with, to send it again: what the callback reports, without
    /// QStash's own headers (Upstash may report them), and its content type, which the runner
    /// forwarded because QStash keeps it apart.
    private static func requestHeaders(_ answer: CallbackBody, _ headers: HeaderFields) -> [(name: String, value: String)] {
        let sent = answer.sourceHeader.flatMap { header in header.values.map { (name: header.name, value: $0) } }.filter { header in
            let name = header.name.lowercased()
            return !name.hasPrefix("upstash-") && name != "content-type"
        }
        return sent + (headers[RunMessages.callContentTypeHeader].map { [(name: "Content-Type", value: $0)] } ?? [])
    }

    /// The third party's answer, redacted by `redactor`; a status below 100 means QStash got none.
    private static func sent(_ answer: CallbackBody, _ redactor: SecretRedactor) -> Result<IncomingResponse, TransportFailure> {
        guard answer.status >= 100 else {
            // Redacted whole before it is cut, so that no secret is left cut short, out of a form's reach.
            let reason = String(decoding: redactor.redact(body: answer.body).prefix(300), as: UTF8.self)
            return .failure(TransportFailure(.connection, "the call got no answer: \(reason)"))
        }
        let headers = answer.header.flatMap { header in header.values.map { (name: header.name, value: $0) } }
        return .success(redactor.redact(IncomingResponse(status: Int(answer.status), headers: headers, body: answer.body)))
    }
}
