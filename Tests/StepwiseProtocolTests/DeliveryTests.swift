import StepwiseExpressions
import StepwiseRuntime
import Testing

@testable import StepwiseProtocol

@Suite struct DeliveryTests {
    @Test func dropsHopByHopAndStaleHeadersAndLetsItsOwnWin() {
        let headers = DeliveryHeaders(
            signature: "new-jwt", messageId: "msg_2", retried: 1, runId: "wfr_1", runCreatedAt: 1_700_000_000_000,
            contentType: "application/json",
            forwarded: [
                ("Content-Length", "12"), ("Host", "old.test"), ("Connection", "keep-alive"), ("Upstash-Signature", "old-jwt"),
                ("Upstash-Message-Id", "msg_1"), ("content-type", "text/plain"), ("Authorization", "Bearer user"),
                ("Upstash-Workflow-Sdk-Version", "1"),
            ]
        ).fields
        #expect(headers.fields.map(\.name) == [
            "Authorization", "Upstash-Workflow-Sdk-Version", "Content-Type", "Upstash-Signature", "Upstash-Message-Id",
            "Upstash-Retried", "Upstash-Workflow-RunId", "Upstash-Workflow-CreatedAt", "User-Agent",
        ])
        #expect(headers["upstash-signature"] == "new-jwt" && headers["content-type"] == "application/json")
        #expect(headers["upstash-retried"] == "1")
    }

    @Test func readsTheEndpointsAnswers() {
        let success = EndpointAnswer(status: 200, headers: HeaderFields([("Upstash-Workflow-Sdk-Version", "1")]),
                                     body: Array(#"{"workflowRunId":"wfr_1","finishCondition":"success"}"#.utf8))
        #expect(success.verdict == .delivered && success.workflowRunId == "wfr_1" && success.finishCondition == "success")
        #expect(success.isWorkflowEndpoint && !success.failureFunctionMissing)
        let nonRetryable = EndpointAnswer(status: 489, headers: HeaderFields([("Upstash-NonRetryable-Error", "true")]), body: [])
        #expect(nonRetryable.verdict == .failWithoutRetry)
        #expect(EndpointAnswer(status: 489, headers: HeaderFields(), body: []).verdict == .retry)
        #expect(EndpointAnswer(status: 429, headers: HeaderFields([("Retry-After", "30")]), body: []).verdict == .retryAfter(.seconds(30)))
        #expect(EndpointAnswer(status: 429, headers: HeaderFields([("Retry-After", "2d")]), body: []).verdict == .retryAfter(DefaultBackoff.maximum))
        #expect(EndpointAnswer(status: 500, headers: HeaderFields([("Retry-After", "soon")]), body: Array("oops".utf8)).verdict == .retry)
        let missing = EndpointAnswer(status: 200, headers: HeaderFields([("Upstash-Workflow-Failure-Callback-Notfound", "true")]), body: [])
        #expect(missing.failureFunctionMissing && missing.workflowRunId == nil)
    }

    @Test func writesTheCallbackBody() throws {
        let callback = CallbackBody(
            status: 200, header: [("Content-Type", ["application/json"])], body: Array(#"{"ok":true}"#.utf8), retried: nil,
            maxRetries: 3, sourceMessageId: "msg_9", url: "https://api.test/x", method: "GET"
        )
        #expect(String(decoding: callback.jsonBytes, as: UTF8.self)
            == #"{"status":200,"header":{"Content-Type":["application/json"]},"body":"eyJvayI6dHJ1ZX0=","maxRetries":3,"sourceMessageId":"msg_9","url":"https://api.test/x","method":"GET","sourceHeader":{},"sourceBody":""}"#)
        #expect(!callback.sdkWaitsForRetry)
        #expect(callback.callResponse.json.jsonText() == #"{"status":200,"body":"{\"ok\":true}","header":{"Content-Type":["application/json"]}}"#)
        var failing = callback
        failing.status = 404
        failing.retried = 1
        // workflow-requests.test.ts "should do nothing in call-will-retry case": 404, retried 1 of 3.
        #expect(failing.sdkWaitsForRetry)
        failing.retried = 3
        #expect(!failing.sdkWaitsForRetry)
    }

    @Test func writesTheFailureCallbackBodyWithTheFieldsPythonIndexes() throws {
        let failure = FailureCallbackBody(
            status: 500, header: [], body: Array(#"{"error":"Error","message":"boom"}"#.utf8), retried: 3, maxRetries: 3,
            dlqId: "1725323658779-0", sourceMessageId: "msg_1", url: "https://app.test/wf", sourceBody: Array("payload".utf8),
            workflowRunId: "wfr_1", workflowCreatedAt: 1_700_000_000_000
        )
        let object = try WireJSON.object(try WireJSON.parse(failure.jsonBytes, what: "body"), what: "body")
        for key in ["status", "header", "body", "url", "sourceBody", "workflowRunId", "workflowCreatedAt"] {
            #expect(object[.string(key)] != nil, "missing \(key)")
        }
        #expect(try object.string("sourceBody") == "cGF5bG9hZA==")
    }

    @Test func rejectsAppendsToEndedRuns() {
        let rejection = AppendRejection(runState: "cancelled")
        #expect(rejection.status == 400)
        #expect(String(decoding: rejection.jsonBytes, as: UTF8.self)
            == #"{"error":"failed to publish to url: can not append to a a cancelled workflow"}"#)
    }
}

@Suite("Query values") struct QueryValueTests {
    @Test("a query value keeps its & = + # and spaces as text rather than ending or starting a parameter")
    func escapesWhatWouldSplitTheQuery() {
        #expect(QueryValue.escaped("http://127.0.0.1:9/wf?tenant=a&x=1+2 #top") == "http://127.0.0.1:9/wf?tenant%3Da%26x%3D1%2B2%20%23top")
        #expect(QueryValue.escaped("nightly-report") == "nightly-report")
    }

    @Test("a webhook call is written as the SDK's LazyWaitForWebhookStep reads it: headers by name, the body in base64 or left out")
    func writesAWebhookCallAsTheSDKReadsIt() throws {
        let call = WebhookRequest(
            method: "POST", headers: HeaderFields([("X-Sig", "a"), ("Content-Type", "application/json"), ("x-sig", "b")]),
            body: Array(#"{"paid":true}"#.utf8), proto: "https", host: "hooks.example", url: "/v2/workflows/hooks/u/wfr_1/evt_1?x=1")
        let json = try Value(json: String(decoding: call.eventBody, as: UTF8.self))
        #expect(json == [
            "method": "POST", "header": ["X-Sig": ["a", "b"], "Content-Type": ["application/json"]], "body": "eyJwYWlkIjp0cnVlfQ==",
            "proto": "https", "host": "hooks.example", "url": "/v2/workflows/hooks/u/wfr_1/evt_1?x=1",
        ])
        let empty = WebhookRequest(method: "GET", headers: HeaderFields(), body: [], proto: "http", host: "h", url: "/")
        #expect(try Value(json: String(decoding: empty.eventBody, as: UTF8.self))["body"] == nil, "the SDK reads a missing body as none")
        #expect(WebhookRequest.completes(step: #"{"stepId":1,"stepName":"w","stepType":"WaitForWebhook","concurrent":1}"#))
        #expect(!WebhookRequest.completes(step: #"{"stepId":1,"stepName":"w","stepType":"Wait","concurrent":1}"#))
    }

    @Test("a webhook's event id is one a CreateWebhook step of the run's log made, as the JS SDK writes it; the initial payload makes none")
    func findsTheWebhooksARunMade() {
        func step(_ id: Int, _ type: String, out: String) -> RawStep {
            let json: Value = ["stepId": .int(Int64(id)), "stepName": "s", "stepType": .string(type), "out": .string(out), "concurrent": 1]
            return RawStep(messageId: "msg_\(id)", body: Array(json.jsonText().utf8))
        }
        let made = #"{"webhookUrl":"http://127.0.0.1:8080/v2/workflows/hooks/u/wfr_1/evt_AAAAAAAAAAAAAAA","eventId":"evt_AAAAAAAAAAAAAAA"}"#
        let forged = #"{"webhookUrl":"x","eventId":"evt_BBBBBBBBBBBBBBB"}"#
        let log = [step(1, "CreateWebhook", out: forged), step(1, "Run", out: #""evt_CCCCCCCCCCCCCCC""#), step(2, "CreateWebhook", out: made)]
        #expect(WebhookRequest.created(eventId: "evt_AAAAAAAAAAAAAAA", in: log))
        #expect(!WebhookRequest.created(eventId: "evt_BBBBBBBBBBBBBBB", in: log), "the first entry is the initial payload")
        #expect(!WebhookRequest.created(eventId: "evt_CCCCCCCCCCCCCCC", in: log))
        #expect(WebhookRequest.isEventIdShaped("evt_aZ09-_aZ09-_aZ0"))
        for bad in ["evt_short", "evt_AAAAAAAAAAAAAAAA", "evx_AAAAAAAAAAAAAAA", "evt_AAAAAAAA/AAAAAA", "evt_AAAAAAAAAAAAAA%"] {
            #expect(!WebhookRequest.isEventIdShaped(bad), "\(bad)")
        }
    }
}
