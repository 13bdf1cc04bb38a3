import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import Testing

/// Which deliveries may go out empty for the SDK to read its run's log itself (QStash's lazy
/// fetch): only what the JS SDK 1.x published and reads as a log, and only above the threshold.
@Suite("Lazy fetch: which deliveries go out empty")
struct LazyFetchTests {
    private let now = TimestampValue(millisecondsSinceEpoch: 1_800_000_000_000) ?? .epoch
    private static let jsFeatures = "LazyFetch,InitialBody,WF_DetectTrigger,WF_TriggerOnConfig"
    private static let pythonFeatures = "LazyFetch,InitialBody,WF_DetectTrigger"

    private func published(_ headers: [(String, String)], to destination: String = "http://127.0.0.1:9/wf") throws -> PublishedMessage {
        try PublishedMessage(destination: destination, headers: HeaderFields(headers), body: Array("{}".utf8))
    }

    private func step(features: String, sdkVersion: Bool = true) throws -> QueuedMessage {
        var headers = [("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", "wfr_1"), ("Upstash-Feature-Set", features)]
        if sdkVersion { headers.append(("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1")) }
        guard case .append(_, _, _, let message) = try PublicationPlanner(now: now).plan(try published(headers)) else {
            throw ProtocolError("a step should append to its run's log")
        }
        return message
    }

    @Test("a step delivery of the JS SDK 1.x above the threshold goes out empty; of the Python SDK, or at the threshold, never")
    func stepDeliveries() throws {
        let lazyFetch = LazyFetch(threshold: 1_000)
        let js = try step(features: Self.jsFeatures)
        #expect(js.fetchesLog == true)
        #expect(lazyFetch.mayOmitBody(of: js, bytes: 1_001))
        #expect(!lazyFetch.mayOmitBody(of: js, bytes: 1_000))
        let python = try step(features: Self.pythonFeatures)
        #expect(python.fetchesLog == nil)
        #expect(!lazyFetch.mayOmitBody(of: python, bytes: 10_000_000), "Python 2.0.0 names LazyFetch and fails on an empty body")
        // Without the protocol's version the SDK takes a delivery for a first invocation, whose
        // empty body would be an empty initial payload.
        #expect(!lazyFetch.mayOmitBody(of: try step(features: Self.jsFeatures, sdkVersion: false), bytes: 10_000_000))
    }

    @Test("a call's callback takes the JS SDK's Upstash-Callback-Feature-Set; the call itself and plain messages always carry their bodies")
    func callbacks() throws {
        let call = try published([
            ("Upstash-Workflow-Init", "false"), ("Upstash-Workflow-RunId", "wfr_1"), ("Upstash-Workflow-CallType", "toCallback"),
            ("Upstash-Callback", "http://127.0.0.1:9/wf"), ("Upstash-Callback-Feature-Set", Self.jsFeatures),
            ("Upstash-Callback-Forward-Upstash-Workflow-Callback", "true"), ("Upstash-Callback-Workflow-CallType", "fromCallback"),
            ("Upstash-Callback-Workflow-RunId", "wfr_1"), ("Upstash-Feature-Set", "WF_NoDelete,InitialBody"),
            ("Upstash-Callback-Failure-Callback", "http://127.0.0.1:9/wf"), ("Upstash-Callback-Failure-Callback-Feature-Set", Self.jsFeatures),
        ], to: "http://127.0.0.1:9/third")
        guard case .append(_, _, _, let queuedCall) = try PublicationPlanner(now: now).plan(call) else {
            Issue.record("a call should append to its run's log")
            return
        }
        let lazyFetch = LazyFetch(threshold: 10)
        #expect(!lazyFetch.mayOmitBody(of: queuedCall, bytes: 1_000), "the third party gets the call's body")
        #expect(queuedCall.callback?.fetchesLog == true)
        #expect(queuedCall.callbackFailureCallback.map { $0.fetchesLog == nil } == true, "a failure callback's body is never in the log")
        let run = RunRecord(
            id: "wfr_1", workflow: "http://127.0.0.1:9/wf", definitionHash: "", input: .null, createdAt: now, updatedAt: now,
            endpoint: "http://127.0.0.1:9/wf")
        let followUp = QueuedAttemptResolver(
            message: queuedCall, run: run, initialPayload: [], body: [], startedAt: now, now: now, retryDelayScale: 1
        ).resolve(.answered(status: 200, headers: HeaderFields([]), body: Array(repeating: UInt8(ascii: "x"), count: 100)))
        let callback = try #require(followUp.enqueue.first)
        #expect(callback.message.role == .callback && callback.message.fetchesLog == true)
        #expect(callback.logEntry?.messageId == callback.message.id, "the SDK finds the callback's body in the log by its message id")
        #expect(lazyFetch.mayOmitBody(of: callback.message, bytes: callback.message.body?.count ?? 0))

        let plain = try PublicationPlanner(now: now).plan(try published([("Upstash-Feature-Set", Self.jsFeatures)]))
        guard case .enqueue(let message) = plain else {
            Issue.record("a message of no run should be plain")
            return
        }
        #expect(!lazyFetch.mayOmitBody(of: message, bytes: 1_000))
    }
}
