import Foundation
@testable import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import Testing

/// What follows the last failed attempt of a call's callback to an SDK run's endpoint: only the
/// callback the SDK acts on (the call's last attempt) fails the run, which would otherwise wait
/// for ever; the callback of an attempt QStash retries is ignored by the SDK, and so here.
@Suite("Queued attempts: a call's callback that fails for good")
struct QueuedAttemptResolverTests {
    private let now = TimestampValue(millisecondsSinceEpoch: 1_800_000_000_000) ?? .epoch

    private func callback(status: Int64, retried: Int?, maxRetries: Int) -> QueuedMessage {
        let body = CallbackBody(
            status: status, header: [], body: Array("answer".utf8), retried: retried, maxRetries: maxRetries, sourceMessageId: "msg_call",
            url: "http://127.0.0.1:9/third", method: "POST")
        var message = QueuedMessage(
            role: .callback, runId: "wfr_1", destination: "http://127.0.0.1:9/wf", body: body.jsonBytes, retries: 0,
            failureCallback: QueuedTarget(url: "http://127.0.0.1:9/failed", runId: "wfr_1"), runIdHeader: "wfr_1", dueAt: now)
        message.attempt = 0
        return message
    }

    private func resolveDown(_ message: QueuedMessage, runStatus: RunStatus = .running, defaults: RunDefaults? = nil, status: Int = 503)
        -> AttemptFollowUp
    {
        let run = RunRecord(id: "wfr_1", workflow: "http://127.0.0.1:9/wf", definitionHash: "", input: .null, status: runStatus, createdAt: now,
                            updatedAt: now, endpoint: "http://127.0.0.1:9/wf", defaults: defaults)
        let resolver = QueuedAttemptResolver(
            message: message, run: run, initialPayload: Array(#"{"order":1}"#.utf8), body: message.body ?? [], startedAt: now, now: now,
            retryDelayScale: 1)
        return resolver.resolve(.answered(status: status, headers: HeaderFields([]), body: Array("down".utf8)))
    }

    /// A run resumed from the DLQ with `Upstash-Retries: 4` and `Upstash-Failure-Callback`.
    private var resumedWithOverrides: RunDefaults {
        var options = ResumeOptions()
        options.retries = 4
        options.failureCallback = MessageTarget(url: "http://127.0.0.1:9/told")
        return RunDefaults(overrides: RunOverrides(options, runId: "wfr_1"))
    }

    @Test("the callback of the call's last attempt fails the run and calls its failure callback with the run's initial payload")
    func lastAttempt() throws {
        for message in [callback(status: 200, retried: nil, maxRetries: 2), callback(status: 500, retried: 2, maxRetries: 2)] {
            let followUp = resolveDown(message)
            #expect(followUp.failRun?.runId == "wfr_1")
            let notice = try #require(followUp.enqueue.first?.message)
            #expect(notice.role == .failureCallback && notice.destination == "http://127.0.0.1:9/failed")
            let body = try #require(try? Value(json: String(decoding: notice.body ?? [], as: UTF8.self)))
            #expect(body["dlqId"] == "dlq_wfr_1")
            #expect(body["sourceBody"] == .string(Data(#"{"order":1}"#.utf8).base64EncodedString()))
        }
    }

    @Test("after a resume with overrides, a call's callback takes their retries, and its failure reports to their failure URL")
    func overridesOfAResume() throws {
        let down = resolveDown(callback(status: 200, retried: nil, maxRetries: 2), defaults: resumedWithOverrides)
        #expect(down.enqueue.first?.message.destination == "http://127.0.0.1:9/told", "not the call's own failure URL")
        let call = QueuedMessage(
            role: .call, runId: "wfr_1", destination: "http://127.0.0.1:9/third", retries: 0,
            callback: QueuedTarget(url: "http://127.0.0.1:9/wf", retries: 0, runId: "wfr_1"), runIdHeader: "wfr_1", dueAt: now)
        let answered = resolveDown(call, defaults: resumedWithOverrides, status: 200)
        let callback = try #require(answered.enqueue.first?.message)
        #expect(callback.role == .callback && callback.retries == 4 && callback.failureCallback?.url == "http://127.0.0.1:9/told")
        #expect(resolveDown(call, status: 200).enqueue.first?.message.retries == 0, "without overrides, the callback's own")
        let plain = QueuedMessage(
            role: .plain, runId: nil, destination: "http://127.0.0.1:9/third", retries: 0, callback: QueuedTarget(url: "http://127.0.0.1:9/cb", retries: 0), dueAt: now)
        #expect(resolveDown(plain, defaults: resumedWithOverrides, status: 200).enqueue.first?.message.retries == 0, "a plain message's callback is its own")
    }

    @Test("a resume's flow-control key becomes the run's, but for a delivery in a named queue's turn, which keeps the queue's limits")
    func flowControlKeyOfAResume() {
        var options = ResumeOptions()
        options.flowControl = StepwiseProtocol.FlowControl(key: "resumed", parallelism: 1)
        let overrides = RunOverrides(options, runId: "wfr_1")
        var delivery = QueuedMessage(role: .workflow, runId: "wfr_1", destination: "http://127.0.0.1:9/wf", dueAt: now)
        #expect(overrides.flowControlKey(of: delivery, current: "before") == "resumed")
        #expect(overrides.applied(to: delivery).flowControlKey == "resumed", "the delivery is counted under it too")
        delivery.queue = "mail"
        delivery.flowControl = NamedQueue.flowControl(of: "mail")
        #expect(overrides.flowControlKey(of: delivery, current: "before") == "before")
        #expect(overrides.applied(to: delivery).flowControl == NamedQueue.flowControl(of: "mail"))
        #expect(RunOverrides(ResumeOptions(), runId: "wfr_1").flowControlKey(of: delivery, current: "before") == "before", "no override, no change")
    }

    @Test("the callback of an attempt the call retries fails alone: the SDK would ignore it")
    func retriedAttempt() {
        let followUp = resolveDown(callback(status: 500, retried: nil, maxRetries: 2))
        #expect(followUp.failRun == nil)
        #expect(followUp.enqueue.isEmpty, "no failure callback either")
        #expect(followUp.events.map(\.state) == [.error, .failed])
    }

    @Test("a run that ended meanwhile is neither failed nor told")
    func endedRun() {
        let followUp = resolveDown(callback(status: 200, retried: nil, maxRetries: 0), runStatus: .canceled)
        #expect(followUp.failRun == nil)
        #expect(followUp.enqueue.isEmpty)
    }

    @Test("a restart of a run its call's callback failed starts with a delivery of the run, keeping the callback's user headers, retries and failure callback")
    func restartAfterACallback() {
        var failed = callback(status: 200, retried: nil, maxRetries: 0)
        failed.retries = 5
        failed.headers = [ForwardedHeader("Upstash-Workflow-Callback", "true"), ForwardedHeader("Upstash-Workflow-StepId", "2"), ForwardedHeader("X-Team", "blue")]
        let old = RunRecord(id: "wfr_1", workflow: "http://127.0.0.1:9/wf", definitionHash: "", input: .null, status: .failed, createdAt: now,
                            updatedAt: now, endpoint: "http://127.0.0.1:9/wf")
        let first = WorkflowEngine.firstDelivery(restarting: old, failed: failed)
        #expect(first.role == .workflow && first.destination == "http://127.0.0.1:9/wf" && first.body == nil)
        #expect(first.headers.map(\.name) == ["Upstash-Workflow-Sdk-Version", "X-Team"])
        #expect(first.retries == 5)
        #expect(first.failureCallback?.url == "http://127.0.0.1:9/failed")
        var delivery = failed
        delivery.role = .workflow
        #expect(WorkflowEngine.firstDelivery(restarting: old, failed: delivery) == delivery, "a failed delivery restarts as it was")
    }
}
