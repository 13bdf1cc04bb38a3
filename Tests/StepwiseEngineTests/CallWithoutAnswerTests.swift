import Foundation
@testable import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import Testing

/// A `context.call` whose third party never answers (a refused connection, the call's timeout):
/// each attempt still calls back, with a body both SDKs read (`status` 0, a `header` object, the
/// reason as the body), and only the last one is the result the SDK hands to the workflow.
@Suite("Queued attempts: a call without an answer")
struct CallWithoutAnswerTests {
    private let now = TimestampValue(millisecondsSinceEpoch: 1_800_000_000_000) ?? .epoch

    private func followUp(attempt: Int, retries: Int) -> AttemptFollowUp {
        var call = QueuedMessage(
            role: .call, runId: "wfr_1", destination: "http://127.0.0.1:9/third", body: Array(#"{"ask":1}"#.utf8), retries: retries,
            callback: QueuedTarget(url: "http://127.0.0.1:9/wf", runId: "wfr_1"), runIdHeader: "wfr_1", dueAt: now)
        call.attempt = attempt
        let run = RunRecord(id: "wfr_1", workflow: "http://127.0.0.1:9/wf", definitionHash: "", input: .null, status: .running, createdAt: now,
                            updatedAt: now, endpoint: "http://127.0.0.1:9/wf")
        let resolver = QueuedAttemptResolver(
            message: call, run: run, initialPayload: [], body: call.body ?? [], startedAt: now, now: now, retryDelayScale: 1)
        return resolver.resolve(.noAnswer("the request timed out after 1 s"))
    }

    private func callback(of followUp: AttemptFollowUp) throws -> (message: QueuedMessage, body: CallbackBody) {
        let queued = try #require(followUp.enqueue.first { $0.message.role == .callback })
        #expect(queued.logEntry?.callType == .fromCallback, "the SDK finds the result in the run's log")
        return (queued.message, try CallbackBody(jsonBytes: queued.message.body ?? []))
    }

    @Test("every attempt calls back with status 0, an empty header object and the reason; the SDK waits for the last")
    func everyAttemptCallsBack() throws {
        let first = followUp(attempt: 0, retries: 2)
        #expect(first.retry?.attempt == 1, "retried as any failed attempt")
        let (message, body) = try callback(of: first)
        #expect(message.destination == "http://127.0.0.1:9/wf")
        #expect(body.status == 0 && body.header.isEmpty && body.retried == nil && body.maxRetries == 2)
        #expect(String(decoding: body.body, as: UTF8.self) == "the request timed out after 1 s")
        #expect(body.sdkWaitsForRetry, "the SDK answers call-will-retry to an attempt QStash retries")
        let json = try #require(try? Value(json: String(decoding: message.body ?? [], as: UTF8.self)))
        #expect(json["header"] == .map(ValueMap()), "an object: the Python SDK reads it by key, the JS one with new Headers(...)")

        let last = followUp(attempt: 2, retries: 2)
        #expect(last.retry == nil)
        let (_, lastBody) = try callback(of: last)
        #expect(lastBody.retried == 2 && !lastBody.sdkWaitsForRetry, "the SDK hands this one to the workflow")
        #expect(lastBody.callResponse.status == 0 && lastBody.callResponse.body == "the request timed out after 1 s")
    }
}
