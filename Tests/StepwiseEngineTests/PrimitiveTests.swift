import Foundation
import Testing
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting

extension Value {
    /// The items of a list value.
    var list: [Value]? {
        if case .list(let items) = self { return items }
        return nil
    }
}

/// The primitives of DESIGN §3–4 through the real server on loopback: waits and notify (with
/// lookback), engine-executed calls, parallel branches, for_each, invoke and cancel.
@Suite("Primitives over HTTP")
struct PrimitiveTests {
    /// Runs `curl` with `arguments` and returns what it printed.
    private func curl(_ arguments: [String]) throws -> String {
        String(decoding: try ChildProcess.run("/usr/bin/curl", ["-s", "--max-time", "10"] + arguments).standardOutput, as: UTF8.self)
    }

    static let waiter = """
        workflow: waiter
        steps:
          - id: paid
            wait_for_event: {event: "order-paid-${{ input.order_id }}", timeout: 1h}
        output: ${{ steps.paid }}
        """

    @Test("a run waits for an event sent with curl; GET /v2/waiters lists it meanwhile; the data arrives in {received, data}", arguments: StoreKind.testable)
    func waitForEventSentByCurl(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(Self.waiter)], store: kind) { server in
            let id = try await server.startRun("waiter", #"{"order_id": 42}"#)
            try await parked(id, "paid", in: server.store)
            let waiters = try await send(.GET, server.url("/v2/waiters/order-paid-42"))
            let listed = try #require(waiters.json?.list?.first)
            #expect(listed["workflowRunId"] == .string(id))
            #expect(listed["step"] == "paid")

            let answer = try curl([
                "-X", "POST", server.url("/v2/notify/order-paid-42"), "-H", "Authorization: Bearer \(RunningServer.token)", "-d", #"{"amount": 5}"#,
            ])
            let woken = try #require(try Value(json: answer).list?.first, "notify answers the runs it woke: \(answer)")
            #expect(woken["workflowRunId"] == .string(id))
            // Upstash's NotifyResponse: a YAML run goes on in-process, so no URL and no message.
            #expect(woken["waiter"]?["deadline"] == listed["deadline"])
            #expect(woken["waiter"]?["url"] == "" && woken["messageId"] == "" && woken["error"] == "")
            let run = try await finishedRun(id, in: server.store)
            #expect(run.status == .succeeded)
            #expect(run.output == ["received": true, "timed_out": false, "data": ["amount": 5]])
            #expect(try await send(.GET, server.url("/v2/waiters/order-paid-42")).json == [])
            let again = try await send(.POST, server.url("/v2/notify/order-paid-42"), body: "{}")
            #expect(again.json == [], "nobody waits any more")
        }
    }

    @Test("event ids are percent-decoded from the path: a space or a slash in an event id works", arguments: StoreKind.testable)
    func encodedEventIds(kind: StoreKind) async throws {
        let spaced = try definition("""
            workflow: spaced
            steps:
              - id: paid
                wait_for_event: {event: "go ${{ input.id }}/now", timeout: 1h}
            output: ${{ steps.paid.data }}
            """)
        try await RunningServer.with([spaced], store: kind) { server in
            let id = try await server.startRun("spaced", #"{"id": "a"}"#)
            try await parked(id, "paid", in: server.store)
            #expect(try await send(.GET, server.url("/v2/waiters/go%20a%2Fnow")).json?.list?.count == 1)
            let answer = try await send(.POST, server.url("/v2/notify/go%20a%2Fnow"), body: "1")
            #expect(answer.json?.list?.first?["workflowRunId"] == .string(id))
            #expect(try await finishedRun(id, in: server.store).output == 1)
        }
    }

    @Test("an event addressed to a run before it waits is kept and resolves the wait at once (lookback)", arguments: StoreKind.testable)
    func lookback(kind: StoreKind) async throws {
        // The run reaches its wait only once the gate opens, after the event was sent, however
        // loaded the machine.
        try await SmallWorkflows.withGatedWait("late", event: "paid", output: "${{ steps.ready.data }}") { late, open in
            try await notifyBeforeTheWait(late, opening: open, store: kind)
        }
    }

    private func notifyBeforeTheWait(_ late: WorkflowDefinition, opening open: @Sendable () -> Void, store kind: StoreKind) async throws {
        try await RunningServer.with([late], store: kind) { server in
            let id = try await server.startRun("late", "{}")
            // An event whose id starts with the awaited one's and a colon is another event.
            let other = try await send(.POST, server.url("/v2/notify/\(id)/paid%3Arefunded"), body: #""refund""#)
            #expect(other.json == ["woken": [], "stored": true])
            let early = try await send(.POST, server.url("/v2/notify/\(id)/paid"), body: #""early""#)
            #expect(early.json == ["woken": [], "stored": true])
            for index in 2..<NotifyResult.maximumKeptEvents {
                #expect(try await send(.POST, server.url("/v2/notify/\(id)/e\(index)"), body: "{}").json?["stored"] == true)
            }
            let full = try await send(.POST, server.url("/v2/notify/\(id)/paid"), body: #""too many""#)
            #expect(full.status == 429)
            #expect(full.error == "run '\(id)' keeps 100 events that came before its waits; try again once it has taken some")
            open()
            let run = try await finishedRun(id, in: server.store)
            #expect(run.output == "early")
            let unknown = try await send(.POST, server.url("/v2/notify/wfr_nope/paid"), body: "{}")
            #expect(unknown.status == 404)
        }
    }

    @Test("an event addressed to a run is taken by one wait, its oldest, as a kept event is: two waits on one event take two events", arguments: StoreKind.testable)
    func addressedEventWakesOneWait(kind: StoreKind) async throws {
        let twice = try definition("""
            workflow: twice
            steps:
              - id: both
                parallel:
                  a:
                    - id: first
                      wait_for_event: {event: go, timeout: 1h}
                  b:
                    - id: second
                      wait_for_event: {event: go, timeout: 1h}
              - id: third
                wait_for_event: {event: go, timeout: 1h}
            output: ["${{ steps.both.a.data }}", "${{ steps.both.b.data }}", "${{ steps.third.data }}"]
            """)
        try await RunningServer.with([twice], store: kind) { server in
            let id = try await server.startRun("twice", "{}")
            let waiting = { @Sendable (count: Int) async throws in
                _ = try await eventually("\(count) waits on go") {
                    try await send(.GET, server.url("/v2/waiters/go")).json?.list?.count == count ? true : nil
                }
            }
            try await waiting(2)
            let first = try await send(.POST, server.url("/v2/notify/\(id)/go"), body: #""e1""#)
            #expect(first.json?["woken"]?.list?.count == 1)
            try await waiting(1)
            #expect(try await send(.POST, server.url("/v2/notify/\(id)/go"), body: #""e2""#).json?["woken"]?.list?.count == 1)
            try await waiting(1)
            #expect(try await send(.POST, server.url("/v2/notify/\(id)/go"), body: #""e3""#).json?["woken"]?.list?.count == 1)
            let output = try #require(try await finishedRun(id, in: server.store).output?.list)
            #expect(Set(output.prefix(2).map { $0.jsonText() }) == [#""e1""#, #""e2""#] && output.last == "e3", "\(output)")
        }
    }

    @Test("a wait that is not notified times out with {received: false, timed_out: true}", arguments: StoreKind.testable)
    func waitTimesOut(kind: StoreKind) async throws {
        let impatient = try definition("""
            workflow: impatient
            steps:
              - id: answer
                wait_for_event: {event: "never", timeout: 200ms}
            output: ${{ steps.answer }}
            """)
        try await RunningServer.with([impatient], store: kind) { server in
            let id = try await server.startRun("impatient", "{}")
            let run = try await finishedRun(id, in: server.store)
            #expect(run.output == ["received": false, "timed_out": true, "data": .null])
        }
    }

    @Test("a notify step wakes the runs waiting on its event and returns their ids", arguments: StoreKind.testable)
    func notifyStep(kind: StoreKind) async throws {
        let sender = try definition("""
            workflow: sender
            steps:
              - id: wake
                notify: {event: "order-paid-${{ input.order_id }}", data: {by: sender}}
            output: ${{ steps.wake.waiters }}
            """)
        try await RunningServer.with([try definition(Self.waiter), sender], store: kind) { server in
            let waiting = try await server.startRun("waiter", #"{"order_id": 7}"#)
            try await parked(waiting, "paid", in: server.store)
            let shown = try await send(.GET, server.url("/api/runs/\(waiting)")).json
            #expect(shown?["waits"]?.list?.first?["step"] == "paid")
            #expect(shown?["waits"]?.list?.first?["event"] == "order-paid-7", "the event's id as rendered, to send it by hand")
            let sending = try await server.startRun("sender", #"{"order_id": 7}"#)
            #expect(try await finishedRun(sending, in: server.store).output == [.string(waiting)])
            #expect(try await finishedRun(waiting, in: server.store).output?["data"] == ["by": "sender"])
        }
    }

    @Test("a call is made by the engine while the run is parked; a slow answer and a non-2xx status are results", arguments: StoreKind.testable)
    func callWithDelay(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/slow", .json(#"{"answer": 42}"#, delay: .milliseconds(1_500)))
            target.script("/down", .status(503))
            let caller = try definition("""
                workflow: caller
                steps:
                  - id: ask
                    call: {method: POST, url: "\(target.url("/slow"))", body: {q: 1}, timeout: 10s}
                  - id: probe
                    call: {url: "\(target.url("/down"))"}
                output: {answer: "${{ steps.ask.body.answer }}", probe: "${{ steps.probe.status }}"}
                """)
            try await RunningServer.with([caller], store: kind) { server in
                let id = try await server.startRun("caller", "{}")
                _ = try await eventually("the call to arrive") { target.requests(to: "/slow").first }
                #expect(try await server.store.progress(runId: id).pending == ["ask"], "the run is parked on the call")
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .succeeded)
                #expect(run.output == ["answer": 42, "probe": 503])
                #expect(target.requests(to: "/slow").map { $0.header("Idempotency-Key") } == ["\(id)/ask"])
                #expect(target.requests(to: "/slow").first?.body == #"{"q":1}"#)
                #expect(try await server.store.journal(runId: id).map(\.stepType) == [.initial, .call, .call])
            }
        }
    }

    @Test("each attempt of a call the engine retries is listed with the run's attempts, as an http step's are", arguments: StoreKind.testable)
    func callRetriesAreListed(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/flaky", .status(503), .status(503), .json(#"{"ok": true}"#))
            let caller = try definition("""
                workflow: caller
                steps:
                  - id: ask
                    retry: {attempts: 3, backoff: constant, initial: 10ms}
                    call: {url: "\(target.url("/flaky"))", expect: {status: [200]}}
                """)
            try await RunningServer.with([caller], store: kind) { server in
                let id = try await server.startRun("caller", "{}")
                #expect(try await finishedRun(id, in: server.store).status == .succeeded)
                let attempts = try #require(try await send(.GET, server.url("/api/runs/\(id)")).json?["attempts"]?.list)
                let calls = attempts.filter { $0["position"] == -1 }
                #expect(calls.map { $0["outcome"] } == ["retry", "retry", "call"], "\(attempts)")
                #expect(calls.map { $0["attempt"] } == [0, 1, 2])
                #expect(calls.first?["detail"]?.string?.hasPrefix("ask: ") == true && calls.first?["detail"]?.string?.contains("503") == true,
                        "\(String(describing: calls.first))")
            }
        }
    }

    @Test("a call in flight when its engine restarts is made again with the same Idempotency-Key, and journaled once")
    func callSurvivesRestart() async throws {
        try await CountingServer.with { target in
            // Long enough that the second node starts before the first call is answered, even on
            // two busy cores (1.5 s was not, once, under the whole suite).
            target.fallback("/slow", .json(#"{"done": true}"#, delay: .seconds(4)))
            let caller = try definition("""
                workflow: caller
                steps:
                  - id: ask
                    call: {url: "\(target.url("/slow"))", timeout: 10s}
                output: ${{ steps.ask.body }}
                """)
            let harness = try EngineHarness()
            let first = try await EngineNode.start(databasePath: harness.databasePath, definitions: [caller])
            let run = try await first.start("caller")
            _ = try await eventually("the call to arrive") { target.requests(to: "/slow").first }
            // The node "restarts": a new process with the same name takes its leases over while
            // the old one is still waiting for the answer.
            let second = try await EngineNode.start(databasePath: harness.databasePath, definitions: [caller])
            let finished = try await finishedRun(run.id, in: second.store)
            await first.stop()
            await second.stop()
            #expect(finished.output == ["done": true])
            let keys = target.requests(to: "/slow").map { $0.header("Idempotency-Key") }
            #expect(keys.count == 2)
            #expect(Set(keys) == ["\(run.id)/ask"])
            #expect(try await second.store.journal(runId: run.id).map(\.stepName) == ["init", "ask"])
        }
    }

    @Test("parallel branches progress independently; for_each keeps item order, indexes paths and honours concurrency", arguments: StoreKind.testable)
    func parallelAndForEach(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/item", .json(#"{"ok": true}"#, delay: .milliseconds(300)))
            let fanout = try definition("""
                workflow: fanout
                steps:
                  - id: work
                    parallel:
                      images:
                        - id: resize
                          for_each:
                            items: ${{ input.sizes }}
                            concurrency: 2
                            steps:
                              - id: upload
                                http: {url: "\(target.url("/item"))", query: {size: "${{ item }}"}}
                              - id: label
                                set: {text: "${{ index }}:${{ item }}"}
                      audit:
                        - id: pause
                          sleep: 200ms
                        - id: log
                          http: {url: "\(target.url("/audit"))"}
                output:
                  labels: ${{ steps.work.images.map(l, l.text) }}
                  audit: ${{ steps.work.audit.status }}
                """)
            try await RunningServer.with([fanout], store: kind) { server in
                let id = try await server.startRun("fanout", #"{"sizes": [10, 20, 30, 40, 50]}"#)
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .succeeded, "\(String(describing: run.error))")
                #expect(run.output == ["labels": ["0:10", "1:20", "2:30", "3:40", "4:50"], "audit": 200])
                let paths = try await server.store.journal(runId: id).map(\.stepName)
                let uploadPaths = (0..<5).map { "work.images.resize[\($0)].upload" }
                #expect(Set(paths) == Set(["init", "work.audit.pause", "work.audit.log"] + uploadPaths))
                #expect(paths.count == 8, "no step is journaled twice")
                let uploads = target.requests(to: "/item").sorted { $0.receivedAt < $1.receivedAt }
                #expect(uploads.count == 5)
                // Two at a time: each upload after the second starts after one of the earlier two answered.
                for (index, upload) in uploads.enumerated() where index >= 2 {
                    #expect(upload.receivedAt.timeIntervalSince(uploads[index - 2].receivedAt) >= 0.29)
                }
            }
        }
    }

    @Test("a failing branch fails the parallel step once the other branch settled; catch then applies", arguments: StoreKind.testable)
    func failingBranch(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/bad", .status(404))
            let brittle = try definition("""
                workflow: brittle
                steps:
                  - id: both
                    parallel:
                      bad:
                        - id: broken
                          http: {url: "\(target.url("/bad"))", expect: {status: [200]}}
                          retry: {attempts: 1}
                      slow:
                        - id: nap
                          sleep: 300ms
                        - id: done
                          set: {ok: true}
                    catch:
                      - id: recovered
                        set: {failed: "${{ error.step }}"}
                output: ${{ steps.both }}
                """)
            try await RunningServer.with([brittle], store: kind) { server in
                let id = try await server.startRun("brittle", "{}")
                let run = try await finishedRun(id, in: server.store)
                #expect(run.output == ["failed": "both.bad.broken"])
                #expect(try await server.store.journal(runId: id).map(\.stepName).sorted() == ["both.bad.broken", "both.slow.nap", "init"])
            }
        }
    }

    // SQLite only: the bound is the stores' shared RunTransitions (the SDK's is tested on both),
    // and 101 nested runs take PostgreSQL most of a minute on a loaded machine.
    @Test("a workflow that invokes itself without end stops 100 runs deep: that invoke fails its run, whose parent gets the failure as its result")
    func invokeDepthIsBounded() async throws {
        let kind = StoreKind.sqlite
        let endless = try definition("""
            workflow: endless
            steps:
              - id: again
                invoke: {workflow: endless, input: {}}
            output: ${{ steps.again.status }}
            """)
        try await RunningServer.with([endless], store: kind) { server in
            let root = try await server.startRun("endless", "{}")
            #expect(try await finishedRun(root, in: server.store, within: .seconds(120)).status == .succeeded)
            let runs = try await server.store.runs(RunFilter(workflow: "endless", limit: 1_000))
            #expect(runs.count == RunRecord.maximumInvokeDepth + 1)
            let deepest = try #require(runs.first { $0.status == .failed })
            #expect(deepest.error?.message.contains("invoke nests runs more than 100 deep") == true, "\(String(describing: deepest.error))")
            #expect(runs.filter { $0.status == .failed }.count == 1)
            #expect(runs.filter { $0.output == "failed" }.count == 1, "the deepest run's parent")
        }
    }

    @Test("invoke starts a child run and returns {status, output}; canceling the parent cancels its child", arguments: StoreKind.testable)
    func invokeAndCancel(kind: StoreKind) async throws {
        let child = try definition("""
            workflow: child
            steps:
              - id: wait
                if: ${{ input.wait }}
                wait_for_event: {event: "child-go", timeout: 1h}
            output: "child of ${{ input.name }}"
            """)
        let parent = try definition("""
            workflow: parent
            steps:
              - id: kid
                invoke: {workflow: child, input: {name: "${{ input.name }}", wait: "${{ input.wait }}"}}
            output: ${{ steps.kid }}
            """)
        try await RunningServer.with([child, parent], store: kind) { server in
            let quick = try await server.startRun("parent", #"{"name": "ada", "wait": false}"#)
            let finished = try await finishedRun(quick, in: server.store)
            #expect(finished.output?["status"] == "succeeded")
            #expect(finished.output?["output"] == "child of ada")

            let slow = try await server.startRun("parent", #"{"name": "bob", "wait": true}"#)
            try await parked(slow, "kid", in: server.store)
            let children = try await server.store.runs(RunFilter(workflow: "child", status: .running))
            let kid = try #require(children.first)
            try await parked(kid.id, "wait", in: server.store)
            let cancel = try await send(.DELETE, server.url("/v2/workflows/runs/\(slow)?cancel=true"))
            #expect(cancel.status == 200)
            #expect(try await server.store.run(id: kid.id)?.status == .canceled)
            #expect(try await server.store.waiters(event: "child-go").isEmpty, "the child's waiter is dropped")
        }
    }

    @Test("bulk cancel by workflow name stops every running run of it and nothing else", arguments: StoreKind.testable)
    func bulkCancel(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(Self.waiter)], store: kind) { server in
            let first = try await server.startRun("waiter", #"{"order_id": 1}"#)
            let second = try await server.startRun("waiter", #"{"order_id": 2}"#)
            try await parked(first, "paid", in: server.store)
            try await parked(second, "paid", in: server.store)
            let answer = try await send(.DELETE, server.url("/v2/workflows/runs"), body: #"{"workflow": "waiter"}"#)
            #expect(answer.json?["cancelled"] == 2)
            #expect(try await server.store.run(id: first)?.status == .canceled)
            #expect(try await server.store.run(id: second)?.status == .canceled)
            #expect(try await send(.DELETE, server.url("/v2/workflows/runs"), body: "[]").status == 400)
        }
    }

    @Test("bulk cancel in the forms of Upstash's clients: run ids in the query, a workflow URL in the query or as a list in the body", arguments: StoreKind.testable)
    func bulkCancelClientForms(kind: StoreKind) async throws {
        try await RunningServer.with([try definition(Self.waiter)], store: kind) { server in
            var ids: [String] = []
            for order in 1...5 {
                let id = try await server.startRun("waiter", #"{"order_id": \#(order)}"#)
                try await parked(id, "paid", in: server.store)
                ids.append(id)
            }
            let byIds = try await send(.DELETE, server.url("/v2/workflows/runs?workflowRunIds=\(ids[0])&workflowRunIds=\(ids[1])"))
            #expect(byIds.json?["cancelled"] == 2, "\(byIds.body)")
            #expect(try await server.store.run(id: ids[2])?.status == .running, "only the named runs")
            let byURL = try await send(.DELETE, server.url("/v2/workflows/runs?workflowUrl=\(server.url("/workflows/waiter"))&workflowUrlExactMatch=true"))
            #expect(byURL.json?["cancelled"] == 3, "\(byURL.body)")
            let again = try await send(.DELETE, server.url("/v2/workflows/runs"), body: #"{"workflowUrl": ["http://x/workflows/waiter"]}"#)
            #expect(again.status == 200 && again.json?["cancelled"] == 0)
        }
    }

    @Test("a cancel step ends the run as canceled with its reason: no on_failure, no DLQ; an invoking parent sees the status", arguments: StoreKind.testable)
    func cancelStep(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            let quitter = try definition("""
                workflow: quitter
                steps:
                  - id: stop
                    if: ${{ input.stop }}
                    cancel: "stopped by ${{ input.who }}"
                  - id: after
                    http: {url: "\(target.url("/after"))"}
                on_failure:
                  - id: alert
                    http: {url: "\(target.url("/alert"))"}
                """)
            let boss = try definition("""
                workflow: boss
                steps:
                  - id: job
                    invoke: {workflow: quitter, input: {stop: true, who: boss}}
                output: ${{ steps.job.status }}
                """)
            let handlerCancels = try definition("""
                workflow: handler-cancels
                failure_url: "\(target.url("/failed"))"
                steps:
                  - id: boom
                    fail: {message: nope}
                on_failure:
                  - id: stop
                    cancel: ""
                """)
            try await RunningServer.with([quitter, boss, handlerCancels], store: kind) { server in
                let id = try await server.startRun("quitter", #"{"stop": true, "who": "ada"}"#)
                let run = try await finishedRun(id, in: server.store)
                #expect(run.status == .canceled)
                #expect(run.error?.message == "stopped by ada")
                #expect(run.error?.step == "stop" && run.error?.type == "Canceled", "the step that canceled the run is named")
                let parent = try await server.startRun("boss", "{}")
                #expect(try await finishedRun(parent, in: server.store).output == "canceled")
                #expect(target.requests().isEmpty, "neither the next step nor on_failure ran")
                #expect(try await server.store.allDeadLetters().isEmpty)

                let failed = try await finishedRun(try await server.startRun("handler-cancels", "{}"), in: server.store)
                #expect(failed.status == .failed, "a cancel in on_failure ends the handler, not the failure")
                #expect(failed.error?.message == "nope")
                #expect(try await server.store.allDeadLetters().map(\.runId) == [failed.id])
                _ = try await eventually("failure_url to be told") { target.requests(to: "/failed").first }
                let quiet = try await finishedRun(try await server.startRun("quitter", #"{"stop": true, "who": ""}"#), in: server.store)
                #expect(quiet.error?.message == "stopped by ", "a reason with text around an empty value is kept")
            }
        }
    }
}
