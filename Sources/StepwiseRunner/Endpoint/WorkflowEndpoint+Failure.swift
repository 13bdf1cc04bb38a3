import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Failure callbacks (§7.2): the run failed for good, and its `on_failure` steps run now. The
/// run's state is rebuilt from its log when the orchestrator still serves it (Stepwise's engine
/// keeps the log of failed runs), else from the input alone. A failed run takes no new steps, so
/// `on_failure` runs within this request: its requests are sent, but it cannot sleep, wait, call
/// through QStash or invoke.
extension WorkflowEndpoint {
    /// The most steps `on_failure` may take in one failure callback.
    static let failureHandlerStepLimit = 1_000

    func failureCallback(_ request: EndpointRequest) async throws(EndpointReplyFailure) -> EndpointReply {
        let (runId, definition) = try pinnedRun(request)
        guard !definition.workflow.onFailure.isEmpty else {
            // The runner's own messages name a `failure_url` as their failure callback, which QStash
            // calls itself; a run a client created (the JS SDK's trigger names the workflow's URL)
            // reaches the runner instead, which hands the payload on.
            if definition.workflow.failureURL != nil { return await notifyFailureURL(of: definition, runId: runId, callback: request.body) }
            return EndpointReply(
                status: 200, body: ["workflowRunId": .string(runId), "finishCondition": "failure-callback-undefined"],
                headers: [("Upstash-Workflow-Failure-Callback-Notfound", "true")])
        }
        let callback: FailureCallbackBody
        do {
            callback = try FailureCallbackBody(jsonBytes: request.body)
        } catch {
            return .nonRetryable(type: "WorkflowError", "the failure callback body cannot be read: \(error.message)")
        }
        var journal: [JournalEntry]
        do {
            journal = try await qstash.log(runId).map { try ProtocolJournal($0, runId: runId).entries } ?? [.initial(ProtocolJournal.input(callback.sourceBody))]
        } catch let failure as OrchestratorFailure {
            return .error(500, type: "QStashError", "the run's log could not be read: \(failure.message)")
        } catch {
            return .nonRetryable(type: "WorkflowError", "the run's log cannot be read, so on_failure did not run: \(error)")
        }
        let failure = Self.failure(of: callback)
        for _ in 0..<Self.failureHandlerStepLimit {
            let delivery = Delivery(
                runId: runId, workflow: definition.name, definitionHash: definition.hash, journal: journal,
                startedAt: Self.createdAt(request) ?? Self.createdAt(milliseconds: callback.workflowCreatedAt) ?? clock(), failure: failure)
            switch await runner.deliver(delivery) {
            case .submitted(let submissions), .finished(let submissions, _):
                // Retrying the callback cannot help (and would send on_failure's requests again).
                guard submissions.count == 1, case .record(var entry) = submissions[0] else {
                    return .nonRetryable(
                        type: "Unsupported",
                        "on_failure reached \(submissions.map(\.stepName).joined(separator: ", ")), which cannot sleep, wait, call through QStash or invoke in a failure callback")
                }
                entry.stepId = journal.count
                journal.append(entry)
            case .completed, .failed:
                events.record(.runSingle, runId: runId, ["onFailure": "done"])
                return await notifyFailureURL(of: definition, runId: runId, callback: request.body)
            case .blocked, .canceled, .needsWholeJournal:
                return EndpointReply(status: 200, body: ["workflowRunId": .string(runId)])
            case .rejected(let message):
                return .nonRetryable(type: "ReplayError", message)
            }
        }
        return .nonRetryable(type: "WorkflowError", "on_failure took more than \(Self.failureHandlerStepLimit) steps")
    }

    /// After `on_failure`, hands the failure payload to the workflow's `failure_url` through
    /// QStash (signed and retried like the callback itself), then answers the callback.
    private func notifyFailureURL(of definition: WorkflowDefinition, runId: String, callback: [UInt8]) async -> EndpointReply {
        if let url = definition.workflow.failureURL?.value {
            let headers = HeaderFields([
                ("Content-Type", "application/json"), ("Upstash-Forward-Upstash-Workflow-Is-Failure", "true"),
                ("Upstash-Forward-Upstash-Workflow-Failure-Callback", "true"), ("Upstash-Forward-Upstash-Workflow-RunId", runId),
            ])
            do {
                try await qstash.publish(OutgoingMessage(destination: url, headers: headers, body: callback))
            } catch {
                return .error(500, type: "QStashError", "on_failure ran, but the failure_url could not be notified: \(error.message)")
            }
        }
        return EndpointReply(status: 200, body: ["workflowRunId": .string(runId)])
    }

    /// Why the run failed: the fields of the runner's own 489 answer, else the status and body.
    private static func failure(of callback: FailureCallbackBody) -> StepError {
        if let answer = EndpointErrorBody(bytes: callback.body) { return answer.error }
        let text = String(decoding: callback.body.prefix(500), as: UTF8.self)
        return StepError(message: "the workflow endpoint answered \(callback.status): \(text)", type: "EndpointError", status: Int(callback.status))
    }
}
