import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import Testing
import StepwiseTesting

/// `POST /v2/wait/{eventId}` for SDK runs (what `context.waitForEvent` of the JS SDK sends):
/// a notify, a kept event or the timeout completes the `Wait` step and delivers the run again.
@Suite struct QStashWaitTests {
    /// An endpoint that waits on `event` (a `stepType` step, after the `CreateWebhook` step that
    /// makes `event`'s webhook for a `WaitForWebhook`), then finishes; every delivery is recorded.
    private func waitingEndpoint(
        _ sdk: EmulatedSDKEndpoint, event: String, timeout: String, stepType: String = "Wait", webhookDelay: String? = nil
    ) -> @Sendable (ReceivedRequest) async -> ScriptedResponse {
        let webhook = stepType == WebhookRequest.stepType
        return { request in
            guard let runId = request.header("Upstash-Workflow-RunId"), let entries = try? RawStepArray(jsonBytes: Array(request.body.utf8)).steps.count,
                entries <= (webhook ? 2 : 1)
            else { return await sdk.answer(request) }
            let headers = sdk.stepHeaders(runId: runId) + [("Upstash-Workflow-CallType", "step")]
            if webhook, entries == 1 {
                // What the SDK's createWebhook publishes: the URL it made, in the step's result.
                let made: Value = ["webhookUrl": .string(sdk.stepwise.url("/v2/workflows/hooks/stepwise/\(runId)/\(event)")), "eventId": .string(event)]
                let step: Value = ["stepId": 1, "stepName": "make-hook", "stepType": "CreateWebhook", "out": .string(made.jsonText()), "concurrent": 1]
                let delay = webhookDelay.map { [("Upstash-Delay", $0)] } ?? []
                let answer = try? await sdk.batch([(sdk.url, sdk.stepHeaders(runId: runId) + delay, step.jsonText())])
                return answer?.status == 200 ? EmulatedSDKEndpoint.acknowledgement() : .json(#"{"error":"Error","message":"step refused"}"#, status: 500)
            }
            let body: Value = [
                "url": .string(sdk.url), "timeout": .string(timeout), "timeoutUrl": .string(sdk.url),
                "timeoutHeaders": .map(ValueMap(headers.map { ($0.0, Value.list([.string($0.1)])) })),
                "step": ["stepId": .int(Int64(entries)), "stepName": "wait-for-it", "stepType": .string(stepType), "concurrent": 1],
            ]
            let answer = try? await send(.POST, sdk.stepwise.url("/v2/wait/\(event)"), body: body.jsonText(), headers: headers.filter { $0.0 != "Content-Type" })
            return answer?.status == 200 ? EmulatedSDKEndpoint.acknowledgement() : .json(#"{"error":"Error","message":"wait refused"}"#, status: 500)
        }
    }

    /// The `Wait` result step of the run's last delivery.
    private func waitResult(_ endpoint: CountingServer, path: String) throws -> StepJSON {
        let last = try #require(endpoint.requests(to: path).last)
        return try #require(try RawStepArray(jsonBytes: Array(last.body.utf8)).stepEntries().first { $0.stepName == "wait-for-it" })
    }

    @Test(arguments: StoreKind.testable) func aNotifyCompletesTheWaitWithTheEventBody(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/w"), steps: ["wait-for-it"])
                endpoint.handle("/w", waitingEndpoint(sdk, event: "order-7", timeout: "30s"))
                #expect(try await sdk.trigger(runId: "wfr_wait", payload: "{}").status == 200)
                let waiters = try await eventually("the waiter") { () -> [Value]? in
                    let list = try await send(.GET, stepwise.url("/v2/waiters/order-7")).json?.list
                    return list?.isEmpty == false ? list : nil
                }
                #expect(waiters.first?["workflowRunId"]?.string == "wfr_wait")
                let notified = try await send(.POST, stepwise.url("/v2/notify/order-7"), body: #"{"paid":true}"#)
                #expect(notified.json?.list?.map { $0["workflowRunId"]?.string } == ["wfr_wait"])
                #expect(try await finishedRun("wfr_wait", in: stepwise.store).status == .succeeded)
                // Upstash's NotifyResponse: the waiter as the wait asked, and the delivery the notify queued.
                let woken = try #require(notified.json?.list?.first)
                #expect(woken["waiter"]?["url"]?.string == endpoint.url("/w"))
                #expect(woken["waiter"]?["timeoutUrl"]?.string == endpoint.url("/w"))
                #expect(woken["waiter"]?["deadline"] == waiters.first?["deadline"])
                #expect(woken["waiter"]?["headers"]?["Upstash-Workflow-Runid"] == ["wfr_wait"])
                #expect(woken["messageId"]?.string == endpoint.requests(to: "/w").last?.header("Upstash-Message-Id"))
                let result = try waitResult(endpoint, path: "/w")
                #expect(result.stepType == "Wait")
                #expect(result.waitEventId == "order-7")
                #expect(result.waitTimeout == false)
                #expect(result.out.flatMap { Data(base64Encoded: $0) } == Data(#"{"paid":true}"#.utf8))
                #expect(try await send(.GET, stepwise.url("/v2/waiters/order-7")).json?.list?.isEmpty == true)
            }
        }
    }

    @Test("a call of a webhook URL, without the token, completes its run's WaitForWebhook step with the request, or is kept for it; waits for events are left alone", arguments: StoreKind.testable)
    func aWebhookCallCompletesItsWait(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let hooked = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/h"), steps: ["wait-for-it"])
                endpoint.handle("/h", waitingEndpoint(hooked, event: "evt_Q2x9s8d7f6g5h4j", timeout: "1h", stepType: "WaitForWebhook"))
                let waiting = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/w"), steps: ["wait-for-it"])
                endpoint.handle("/w", waitingEndpoint(waiting, event: "order-9", timeout: "1h"))
                #expect(try await hooked.trigger(runId: "wfr_hook", payload: "{}").status == 200)
                #expect(try await waiting.trigger(runId: "wfr_event", payload: "{}").status == 200)
                for event in ["evt_Q2x9s8d7f6g5h4j", "order-9"] {
                    _ = try await eventually("the waiter on \(event)") { () -> Bool? in
                        try await send(.GET, stepwise.url("/v2/waiters/\(event)")).json?.list?.isEmpty == false ? true : nil
                    }
                }

                // Called from anywhere, without the token: an unknown run is a 404 that tells nothing.
                let unknown = try await send(.POST, stepwise.url("/v2/workflows/hooks/u/wfr_none/evt_Q2x9s8d7f6g5h4j"), body: "{}", token: nil)
                #expect(unknown.status == 404 && unknown.error == "no running workflow run waits on this webhook", "\(unknown.body)")
                // Only a webhook the run's own createWebhook made: an event's wait is completed only by
                // an authenticated notify, and made-up event ids store nothing.
                for path in ["wfr_event/order-9", "wfr_event/evt_Q2x9s8d7f6g5h4j", "wfr_hook/evt_NotMadeByRun123", "wfr_hook/evt_short"] {
                    let refused = try await send(.POST, stepwise.url("/v2/workflows/hooks/u/\(path)"), body: "{}", token: nil)
                    #expect(refused.status == 404 && refused.error == unknown.error, "\(path): \(refused.body)")
                }
                #expect(try await stepwise.store.run(id: "wfr_event")?.status == .running)
                #expect(try await send(.GET, stepwise.url("/v2/waiters/order-9")).json?.list?.count == 1, "still waiting")

                // Stepwise's own credentials, sent along by mistake, are not kept in the run's log.
                let call = try await send(
                    .POST, stepwise.url("/v2/workflows/hooks/u/wfr_hook/evt_Q2x9s8d7f6g5h4j?source=billing&qstash_token=\(RunningServer.token)"),
                    body: #"{"paid":true}"#,
                    headers: [("X-Signature", "t=1,v1=abc"), ("Origin", "https://billing.example"), ("Cookie", "stepwise_session=s3cret")],
                    token: RunningServer.token)
                #expect(call.status == 200 && call.json?["kept"] == false, "\(call.body)")
                #expect(try await finishedRun("wfr_hook", in: stepwise.store).status == .succeeded)
                let result = try waitResult(endpoint, path: "/h")
                #expect(result.stepType == "WaitForWebhook" && result.waitTimeout == false)
                let request = try #require(result.out.flatMap { Data(base64Encoded: $0) }.flatMap { try? Value(json: String(decoding: $0, as: UTF8.self)) })
                #expect(request["method"] == "POST")
                #expect(request["header"]?["X-Signature"] == ["t=1,v1=abc"])
                #expect(request["header"]?["Authorization"] == nil && request["header"]?["Cookie"] == nil)
                let stored = try await stepwise.store.runLog(runId: "wfr_hook", through: nil)
                    .compactMap { try? StepJSON(bytes: $0.body).out }.compactMap { Data(base64Encoded: $0) }.map { String(decoding: $0, as: UTF8.self) }.joined()
                #expect(stored.contains("t=1,v1=abc") && !stored.contains(RunningServer.token) && !stored.contains("s3cret"), "\(stored)")
                #expect(request["body"]?.string.flatMap { Data(base64Encoded: $0) } == Data(#"{"paid":true}"#.utf8))
                #expect(request["proto"] == "http" && request["host"]?.string == stepwise.url("").dropFirst("http://".count).description)
                #expect(request["url"] == "/v2/workflows/hooks/u/wfr_hook/evt_Q2x9s8d7f6g5h4j?source=billing")
                let again = try await send(.GET, stepwise.url("/v2/workflows/hooks/u/wfr_hook/evt_Q2x9s8d7f6g5h4j"), token: nil)
                #expect(again.status == 404, "the run has ended")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aWebhookCalledBeforeItsWaitIsKeptForIt(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/e"), steps: ["wait-for-it"])
                // The run waits only after the delivery that follows its createWebhook, 3 s later: long
                // after the call even on a loaded machine.
                endpoint.handle("/e", waitingEndpoint(sdk, event: "evt_EarlyCallKept15", timeout: "1h", stepType: "WaitForWebhook", webhookDelay: "3s"))
                #expect(try await sdk.trigger(runId: "wfr_early", payload: "{}").status == 200)
                _ = try await eventually("the webhook made") { try await stepwise.store.runLog(runId: "wfr_early", through: nil).count == 2 ? true : nil }
                let kept = try await send(.GET, stepwise.url("/v2/workflows/hooks/u/wfr_early/evt_EarlyCallKept15"), token: nil)
                #expect(kept.json?["kept"] == true, "\(kept.body)")
                #expect(try await finishedRun("wfr_early", in: stepwise.store).status == .succeeded)
                let request = try #require(try waitResult(endpoint, path: "/e").out.flatMap { Data(base64Encoded: $0) }.flatMap {
                    try? Value(json: String(decoding: $0, as: UTF8.self))
                })
                #expect(request["method"] == "GET" && request["body"] == nil)
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aYAMLNotifyStepWakesSDKRunsAndYAMLRunsWaitingOnTheEventAndNamesThemAll(kind: StoreKind) async throws {
        let waiter = try definition("""
            workflow: waiter
            steps:
              - id: hold
                wait_for_event: {event: shipped, timeout: 1h}
            output: "${{ steps.hold.data }}"
            """)
        let notifier = try definition("""
            workflow: notifier
            steps:
              - id: tell
                notify: {event: shipped, data: {parcel: 42}}
            output: "${{ steps.tell.waiters }}"
            """)
        try await CountingServer.with { endpoint in
            try await RunningServer.with([waiter, notifier], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/w"), steps: ["wait-for-it"])
                endpoint.handle("/w", waitingEndpoint(sdk, event: "shipped", timeout: "1h"))
                #expect(try await sdk.trigger(runId: "wfr_sdk_waiter", payload: "{}").status == 200)
                let yaml = try await stepwise.startRun("waiter", "{}")
                _ = try await eventually("both waiters") { () -> Bool? in
                    try await send(.GET, stepwise.url("/v2/waiters/shipped")).json?.list?.count == 2 ? true : nil
                }
                let notifying = try await stepwise.startRun("notifier", "{}")
                let told = try await finishedRun(notifying, in: stepwise.store)
                #expect(Set(told.output?.list?.compactMap(\.string) ?? []) == [yaml, "wfr_sdk_waiter"], "\(String(describing: told.output))")
                #expect(try await finishedRun(yaml, in: stepwise.store).output == ["parcel": 42])
                #expect(try await finishedRun("wfr_sdk_waiter", in: stepwise.store).status == .succeeded)
                let result = try waitResult(endpoint, path: "/w")
                #expect(result.out.flatMap { Data(base64Encoded: $0) }.flatMap { try? Value(json: String(decoding: $0, as: UTF8.self)) } == ["parcel": 42])
            }
        }
    }

    @Test(arguments: StoreKind.testable) func theTimeoutCompletesTheWaitWithoutData(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/t"), steps: ["wait-for-it"])
                endpoint.handle("/t", waitingEndpoint(sdk, event: "never", timeout: "1s"))
                #expect(try await sdk.trigger(runId: "wfr_timeout", payload: "{}").status == 200)
                #expect(try await finishedRun("wfr_timeout", in: stepwise.store).status == .succeeded)
                let result = try waitResult(endpoint, path: "/t")
                #expect(result.waitTimeout == true)
                #expect(result.out == nil)
                let deliveries = endpoint.requests(to: "/t")
                #expect(deliveries[1].receivedAt.timeIntervalSince(deliveries[0].receivedAt) >= 0.9, "the timeout waited its second")
            }
        }
    }

    @Test(arguments: StoreKind.testable) func anEventNotifiedToTheRunBeforeItWaitsIsKeptForTheWait(kind: StoreKind) async throws {
        try await CountingServer.with { endpoint in
            try await RunningServer.with([], store: kind) { stepwise in
                let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: endpoint.url("/l"), steps: ["wait-for-it"])
                endpoint.handle("/l", waitingEndpoint(sdk, event: "early", timeout: "1h"))
                // The run waits only after its delayed first delivery, long after the notify even on a loaded machine.
                #expect(try await sdk.trigger(runId: "wfr_look", payload: "{}", extraHeaders: [("Upstash-Delay", "3s")]).status == 200)
                let kept = try await send(.POST, stepwise.url("/v2/notify/wfr_look/early"), body: "plain text")
                #expect(kept.json?["stored"] == .bool(true), "kept for the wait, which was not there yet")
                #expect(try await finishedRun("wfr_look", in: stepwise.store).status == .succeeded)
                let result = try waitResult(endpoint, path: "/l")
                #expect(result.out.flatMap { Data(base64Encoded: $0) } == Data("plain text".utf8))
            }
        }
    }

    @Test(arguments: StoreKind.testable) func aWaitIsRefusedForRunsThatAreUnknownOrEndedAndForBadBodies(kind: StoreKind) async throws {
        try await RunningServer.with([], store: kind) { stepwise in
            let sdk = EmulatedSDKEndpoint(stepwise: stepwise, url: "http://127.0.0.1:9/x", steps: [])
            let step = #"{"url":"http://127.0.0.1:9/x","step":{"stepId":1,"stepName":"w","stepType":"Wait","concurrent":1}}"#
            let unknown = try await send(.POST, stepwise.url("/v2/wait/e"), body: step, headers: [("Upstash-Workflow-RunId", "wfr_none")])
            #expect(unknown.status == 404)
            let noRun = try await send(.POST, stepwise.url("/v2/wait/e"), body: step)
            #expect(noRun.error?.contains("Upstash-Workflow-RunId") == true)
            let badTimeout = try await send(
                .POST, stepwise.url("/v2/wait/e"), body: step.replacingOccurrences(of: #""step""#, with: #""timeout":"soon","step""#),
                headers: [("Upstash-Workflow-RunId", "wfr_none")])
            #expect(badTimeout.status == 400)
            #expect(badTimeout.error?.hasPrefix("'timeout'") == true)
            #expect(try await send(.POST, stepwise.url("/v2/wait/e"), body: #"{"step":{}}"#, headers: [("Upstash-Workflow-RunId", "x")]).status == 400)
            #expect(try await sdk.trigger(runId: "wfr_over", payload: "{}", extraHeaders: [("Upstash-Delay", "1h")]).status == 200)
            #expect(try await send(.DELETE, stepwise.url("/v2/workflows/runs/wfr_over?cancel=true")).status == 200)
            let ended = try await send(.POST, stepwise.url("/v2/wait/e"), body: step, headers: [("Upstash-Workflow-RunId", "wfr_over")])
            #expect(ended.error == "failed to publish to url: can not append to a a cancelled workflow")
        }
    }
}
