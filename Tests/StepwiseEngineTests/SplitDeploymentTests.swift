import Crypto
import Foundation
import Synchronization
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime
import StepwiseServer
import StepwiseTesting
import Testing

/// `stepwise runner` behind `stepwise serve --no-runner`, over real HTTP on loopback: the runner
/// gets only what the Upstash protocol carries and submits through the QStash API.
@Suite("Split deployment: the YAML runner behind the engine")
struct SplitDeploymentTests {
    @Test func aWorkflowOfRequestsSleepsAndBranchesRunsToTheSameOutputAsInProcess() async throws {
        try await CountingServer.with { api in
            api.fallback("/price", .json(#"{"price": 42}"#))
            let yaml = """
                workflow: pricing
                input: {type: object, required: [sku], properties: {sku: {type: string}}}
                steps:
                  - id: lookup
                    http: {url: "\(api.url("/price"))?sku=${{ input.sku }}"}
                  - id: pause
                    sleep: 1s
                  - id: verdict
                    switch:
                      - when: ${{ steps.lookup.body.price > 40 }}
                        steps: [{id: dear, set: {label: expensive}}]
                      - default: [{id: cheap, set: {label: cheap}}]
                output: {sku: "${{ input.sku }}", price: "${{ steps.lookup.body.price }}", label: "${{ steps.verdict.label }}"}
                """
            let pricing = try definition(yaml)
            let inProcess = try await RunningServer.with([pricing]) { server in
                try await finishedRun(try await server.startRun("pricing", #"{"sku":"a-1"}"#), in: server.store).output
            }
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([pricing], engine: engine) { runner in
                    let id = try await runner.start("pricing", #"{"sku":"a-1"}"#)
                    let steps = try await eventually("the sleep to be logged") { () async throws -> [StepJSON]? in
                        let log = try await send(.GET, engine.url("/v2/workflows/runs/\(id)"))
                        let steps = try? RawStepArray(jsonBytes: Array(log.body.utf8)).stepEntries()
                        return steps?.count == 2 ? steps : nil
                    }
                    #expect(steps.map(\.stepName) == ["lookup", "pause"])
                    #expect(steps.map(\.stepType) == ["Run", "SleepFor"])
                    #expect(steps.map(\.stepId) == [1, 2])
                    let run = try await finishedRun(id, in: engine.store)
                    #expect(run.status == .succeeded)
                    #expect(run.output == inProcess)
                    #expect(run.output?["label"] == "expensive")
                    let view = try #require(try await send(.GET, engine.url("/api/runs/\(id)")).json)
                    #expect(view["steps"]?.list?.compactMap { $0["stepName"]?.string } == ["lookup", "pause"], "the engine shows the runner's steps")
                    #expect(view["steps"]?.list?.first?["out"]?["body"] == ["price": 42])
                }
            }
            #expect(api.requests(to: "/price").count == 2)
        }
    }

    @Test func parallelBranchesAndForEachRunThroughPlanStepsWithEveryStepRunOnce() async throws {
        try await CountingServer.with { api in
            api.handle("/item") { request in .json(#"{"echo": "\#(request.query)"}"#) }
            api.fallback("/slow", .json(#"{"slow": true}"#, delay: .milliseconds(200)))
            let fanout = try definition("""
                workflow: fanout
                steps:
                  - id: both
                    parallel:
                      left:
                        - id: first
                          http: {url: "\(api.url("/slow"))"}
                        - id: nap
                          sleep: 300ms
                        - id: second
                          http: {url: "\(api.url("/item"))?left"}
                      right:
                        - id: only
                          http: {url: "\(api.url("/item"))?right"}
                  - id: each
                    for_each:
                      items: ${{ input.items }}
                      concurrency: 2
                      steps:
                        - id: fetch
                          http: {url: "\(api.url("/item"))?n=${{ item }}"}
                  - id: after
                    http: {url: "\(api.url("/item"))?after"}
                output:
                  left: ${{ steps.both.left.body }}
                  right: ${{ steps.both.right.body }}
                  each: ${{ steps.each.map(e, e.body.echo) }}
                  after: ${{ steps.after.body.echo }}
                """)
            let input = #"{"items": [1, 2, 3, 4, 5]}"#
            let inProcess = try await RunningServer.with([fanout]) { server in
                try await finishedRun(try await server.startRun("fanout", input), in: server.store).output
            }
            let requestsInProcess = api.requests().count
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([fanout], engine: engine) { runner in
                    let run = try await finishedRun(try await runner.start("fanout", input), in: engine.store)
                    #expect(run.status == .succeeded, "\(String(describing: run.error))")
                    #expect(run.output == inProcess)
                    #expect(run.output?["each"] == ["n=1", "n=2", "n=3", "n=4", "n=5"])
                }
            }
            let split = api.requests().dropFirst(requestsInProcess).map { $0.path + "?" + $0.query }
            #expect(split.sorted() == api.requests().prefix(requestsInProcess).map { $0.path + "?" + $0.query }.sorted(), "every step ran once")
            #expect(split.count == 9)
        }
    }

    @Test func aWaitEndsByNotifyOrByItsTimeoutAndANotifyStepReportsTheRunsItWoke() async throws {
        func waiter(_ name: String, timeout: String) throws -> WorkflowDefinition {
            try definition("""
                workflow: \(name)
                steps:
                  - id: decision
                    wait_for_event: {event: "go-${{ input.key }}", timeout: \(timeout)}
                output: ${{ steps.decision }}
                """)
        }
        let sender = try definition("""
            workflow: sender
            steps:
              - id: wake
                notify: {event: "go-${{ input.key }}", data: {by: sender}}
            output: ${{ steps.wake.waiters }}
            """)
        try await RunningServer.with([]) { engine in
            // The notified waiter's timeout is far off, so that a slow machine cannot time it out first.
            try await RunningRunner.with([waiter("waiter", timeout: "60s"), waiter("impatient", timeout: "2s"), sender], engine: engine) { runner in
                let notified = try await runner.start("waiter", #"{"key":"a"}"#)
                let timedOut = try await runner.start("impatient", #"{"key":"b"}"#)
                let parked = try await eventually("the waiter to park") { try await engine.store.waiters(event: "go-a").first }
                #expect(parked.step == "decision", "waiters name the step as in process")
                let woke = try await runner.start("sender", #"{"key":"a"}"#)
                #expect(try await finishedRun(woke, in: engine.store).output == .list([.string(notified)]))
                #expect(try await finishedRun(notified, in: engine.store).output == ["received": true, "timed_out": false, "data": ["by": "sender"]])
                #expect(try await finishedRun(timedOut, in: engine.store).output == ["received": false, "timed_out": true, "data": .null])
            }
        }
    }

    @Test(
        "a reload of the runner's workflows serves added and changed ones at once and stops serving removed ones; a run started before finishes on its version, even without a versions folder"
    )
    func reloadedRunner() async throws {
        func waiter(_ answer: String) throws -> WorkflowDefinition {
            try definition("""
                workflow: waiter
                steps:
                  - id: decision
                    wait_for_event: {event: "go-${{ input.key }}", timeout: 60s}
                output: {answer: \(answer), received: "${{ steps.decision.received }}"}
                """)
        }
        let gone = try definition("workflow: gone\nsteps:\n  - {id: one, set: {a: 1}}\noutput: ${{ steps.one.a }}\n")
        let fresh = try definition("workflow: fresh\nsteps:\n  - {id: one, set: {a: 2}}\noutput: ${{ steps.one.a }}\n")
        try await RunningServer.with([]) { engine in
            try await RunningRunner.with([waiter("first"), gone], engine: engine) { runner in
                let before = try await runner.start("waiter", #"{"key":"a"}"#)
                _ = try await eventually("the first waiter to park") { try await engine.store.waiters(event: "go-a").first }
                #expect(try await send(.POST, runner.url("fresh"), body: "{}").status == 404)

                let change = try runner.reload([waiter("second"), fresh])
                #expect(change == WorkflowReload(before: ["waiter": try waiter("first"), "gone": gone], after: ["waiter": try waiter("second"), "fresh": fresh]))
                #expect("\(change)" == "added fresh; changed waiter; removed gone; 0 unchanged")
                #expect(try await send(.POST, runner.url("gone"), body: "{}").status == 404)
                #expect(try await finishedRun(try await runner.start("fresh", "{}"), in: engine.store).output == 2)
                let after = try await runner.start("waiter", #"{"key":"b"}"#)
                _ = try await eventually("the second waiter to park") { try await engine.store.waiters(event: "go-b").first }

                for key in ["a", "b"] { #expect(try await send(.POST, engine.url("/v2/notify/go-\(key)"), body: "{}").status == 200) }
                #expect(try await finishedRun(before, in: engine.store).output == ["answer": "first", "received": true])
                #expect(try await finishedRun(after, in: engine.store).output == ["answer": "second", "received": true])
            }
        }
    }

    @Test func aCallGoesThroughQStashUnlessItCarriesASecretWhichNeverLeavesTheRunner() async throws {
        try await CountingServer.with { api in
            let secret = "sk-split-\(UUID().uuidString)"
            // The third party that received the secret echoes it, spelled with a JSON escape: the
            // runner redacts the decoded answer before the step's result goes to the engine.
            api.script("/flaky", .status(503), ScriptedResponse(status: 201, body: #"{"id": 7}"#))
            api.fallback("/private", .json(#"{"ok": true, "echo": "\u0073\#(secret.dropFirst())"}"#))
            let caller = try definition("""
                workflow: caller
                secrets: [PRIVATE_KEY]
                steps:
                  - id: create
                    call: {method: POST, url: "\(api.url("/flaky"))", body: {n: 1}, expect: {status: [201]}}
                    retry: {attempts: 3, initial: 100ms}
                  - id: secret
                    call: {url: "\(api.url("/private"))", auth: {bearer: {secret: PRIVATE_KEY}}}
                output: {id: "${{ steps.create.body.id }}", status: "${{ steps.create.status }}", ok: "${{ steps.secret.body.ok }}"}
                """)
            let directory = try TemporaryDirectory()
            try await RunningServer.with([], directory: directory) { engine in
                try await RunningRunner.with([caller], engine: engine, secrets: ["PRIVATE_KEY": secret]) { runner in
                    let id = try await runner.start("caller", "{}")
                    let run = try await finishedRun(id, in: engine.store)
                    #expect(run.status == .succeeded, "\(String(describing: run.error))")
                    #expect(run.output == ["id": 7, "status": 201, "ok": true])
                    let steps = try await send(.GET, engine.url("/api/runs/\(id)")).json?["steps"]?.list ?? []
                    let create = steps.first { $0["stepName"] == "create" }
                    #expect(create?["out"]?["status"] == 201 && create?["out"]?["body"]?["id"] == 7, "a runner's call step shows its result: \(steps)")
                }
                let stored = ["stepwise.db", "stepwise.db-wal"].compactMap { FileManager.default.contents(atPath: directory.path($0)) }
                #expect(!stored.contains { $0.range(of: Data(secret.utf8)) != nil }, "the secret reached the engine's store")
            }
            #expect(api.requests(to: "/flaky").map(\.body) == [#"{"n":1}"#, #"{"n":1}"#])
            #expect(api.requests(to: "/private").first?.header("Authorization") == "Bearer \(secret)")
        }
    }

    @Test func stepRetriesFollowTheStepsPolicyAndExhaustedOnesAreCaughtOrFailTheRun() async throws {
        try await CountingServer.with { api in
            api.script("/twice", .status(503), .status(503), .json(#"{"done": true}"#))
            api.fallback("/never", .status(503))
            let retrying = try definition("""
                workflow: retrying
                steps:
                  - id: eventually
                    http: {url: "\(api.url("/twice"))"}
                    retry: {attempts: 3, initial: 100ms, backoff: constant}
                  - id: hopeless
                    http: {url: "\(api.url("/never"))"}
                    retry: {attempts: 2, initial: 100ms, backoff: constant}
                    catch:
                      - id: fallback
                        set: {caught: "${{ error.status }}"}
                output: {done: "${{ steps.eventually.body.done }}", caught: "${{ steps.hopeless.caught }}"}
                """)
            let failing = try definition("""
                workflow: failing
                steps:
                  - id: refuse
                    fail: {message: "order ${{ input.order }} was rejected", type: Rejected}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([retrying, failing], engine: engine) { runner in
                    let id = try await runner.start("retrying", "{}")
                    let run = try await finishedRun(id, in: engine.store)
                    #expect(run.output == ["done": true, "caught": 503])
                    let failed = try await finishedRun(try await runner.start("failing", #"{"order": 9}"#), in: engine.store)
                    #expect(failed.status == .failed)
                    #expect(failed.error?.message.contains("order 9 was rejected") == true, "\(String(describing: failed.error))")
                    #expect(failed.error?.type == "Rejected")
                }
            }
            #expect(api.requests(to: "/twice").count == 3)
            #expect(api.requests(to: "/never").count == 2)
        }
    }

    @Test func onFailureRunsFromTheFailureCallbackWithTheRunsStateAndError() async throws {
        try await CountingServer.with { api in
            api.fallback("/order", .json(#"{"id": "o-7"}"#))
            api.fallback("/alert", .json("{}"))
            let guarded = try definition("""
                workflow: guarded
                steps:
                  - id: order
                    http: {url: "\(api.url("/order"))"}
                  - id: refuse
                    fail: {message: "order ${{ steps.order.body.id }} was refused", type: Refused}
                on_failure:
                  - id: alert
                    http:
                      method: POST
                      url: "\(api.url("/alert"))"
                      body: {order: "${{ steps.?order.orValue({'body': {'id': 'none'}}).body.id }}", error: "${{ error.message }}", type: "${{ error.type }}"}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([guarded], engine: engine) { runner in
                    let run = try await finishedRun(try await runner.start("guarded", "{}"), in: engine.store)
                    #expect(run.status == .failed)
                    let alert = try await eventually("on_failure's request") { api.requests(to: "/alert").first }
                    #expect(try Value(json: alert.body) == ["order": "o-7", "error": "order o-7 was refused", "type": "Refused"])
                }
            }
            #expect(api.requests(to: "/alert").count == 1)
        }
    }

    @Test("a run an SDK client created (its trigger names the workflow's URL as failure callback) whose first step fails: on_failure runs, a failure_url alone is told")
    func aClientCreatedRunsFailureReachesItsHandlers() async throws {
        try await CountingServer.with { api in
            api.fallback("/alert", .json("{}"))
            api.fallback("/failed", .json("{}"))
            let handled = try definition("""
                workflow: handled
                steps:
                  - id: refuse
                    fail: {message: "refused", type: Refused}
                on_failure:
                  - id: alert
                    http: {method: POST, url: "\(api.url("/alert"))", body: {type: "${{ error.type }}"}}
                """)
            let reported = try definition("""
                workflow: reported
                failure_url: "\(api.url("/failed"))"
                steps:
                  - id: refuse
                    fail: {message: "refused", type: Refused}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([handled, reported], engine: engine) { runner in
                    for name in ["handled", "reported"] {
                        let url = runner.url(name)
                        // What the JS SDK's `client.trigger` sends: its failure callback is the workflow's URL.
                        let failure = "Upstash-Failure-Callback"
                        let headers = [
                            ("Upstash-Workflow-Init", "true"), ("Upstash-Workflow-RunId", "wfr_client_\(name)"), ("Upstash-Workflow-Url", url),
                            ("Upstash-Forward-Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Feature-Set", "LazyFetch,InitialBody"),
                            (failure, url), (failure + "-Forward-Upstash-Workflow-Is-Failure", "true"),
                            (failure + "-Forward-Upstash-Workflow-Failure-Callback", "true"), (failure + "-Workflow-RunId", "wfr_client_\(name)"),
                            (failure + "-Workflow-Init", "false"), (failure + "-Workflow-Url", url), (failure + "-Workflow-CallType", "failureCall"),
                        ]
                        #expect(try await send(.POST, engine.url("/v2/publish/\(url)"), body: "{}", headers: headers).status == 200)
                        #expect(try await finishedRun("wfr_client_\(name)", in: engine.store).status == .failed)
                    }
                    let alert = try await eventually("on_failure's request") { api.requests(to: "/alert").first }
                    #expect(try Value(json: alert.body) == ["type": "Refused"])
                    let told = try await eventually("the failure_url's payload") { api.requests(to: "/failed").first }
                    #expect(try Value(json: told.body)["workflowRunId"] == "wfr_client_reported", "\(told.body)")
                }
            }
        }
    }

    @Test("a step's result larger than the orchestrator takes fails the run at once, saying why, with the request sent once")
    func aResultTooLargeForTheOrchestrator() async throws {
        try await CountingServer.with { api in
            api.fallback("/big", .json(#"{"blob": ""# + String(repeating: "x", count: 200_000) + #""}"#))
            let big = try definition("""
                workflow: big
                steps:
                  - id: fetch
                    http: {url: "\(api.url("/big"))"}
                """)
            try await RunningServer.with([], limits: ConnectionLimits(maximumMessageBytes: 64 << 10)) { engine in
                try await RunningRunner.with([big], engine: engine) { runner in
                    let run = try await finishedRun(try await runner.start("big", "{}"), in: engine.store)
                    #expect(run.status == .failed)
                    #expect(run.error?.message.contains("cannot keep this step's result") == true, "\(String(describing: run.error))")
                }
            }
            #expect(api.requests(to: "/big").count == 1, "the step was not run again for each retry of its delivery")
        }
    }

    @Test func anInvokedRunReportsItsEndToTheParentsStepAsInProcess() async throws {
        let child = try definition("""
            workflow: child
            input: {type: object, required: [n], properties: {n: {type: integer}}}
            steps:
              - id: nap
                sleep: 200ms
              - id: check
                if: ${{ input.n < 0 }}
                fail: {message: "negative ${{ input.n }}", type: Negative}
              - id: quit
                if: ${{ input.n == 0 }}
                cancel: "nothing to double"
            output: {doubled: "${{ input.n * 2 }}"}
            """)
        let parent = try definition("""
            workflow: parent
            steps:
              - id: good
                invoke: {workflow: child, input: {n: 21}}
              - id: bad
                invoke: {workflow: child, input: {n: -1}}
              - id: quit
                invoke: {workflow: child, input: {n: 0}}
            output:
              good: {status: "${{ steps.good.status }}", output: "${{ steps.good.output }}"}
              bad: {status: "${{ steps.bad.status }}", error: "${{ steps.bad.error.message }}"}
              quit: {status: "${{ steps.quit.status }}", error: "${{ steps.quit.error }}"}
            """)
        let inProcess = try await RunningServer.with([child, parent]) { server in
            try await finishedRun(try await server.startRun("parent", "{}"), in: server.store).output
        }
        try await RunningServer.with([]) { engine in
            try await RunningRunner.with([child, parent], engine: engine) { runner in
                let id = try await runner.start("parent", "{}")
                let run = try await finishedRun(id, in: engine.store)
                #expect(run.status == .succeeded, "\(String(describing: run.error))")
                #expect(run.output == inProcess)
                #expect(run.output?["good"] == ["status": "succeeded", "output": ["doubled": 42]])
                #expect(run.output?["quit"]?["error"]?["type"] == "Canceled", "\(String(describing: run.output))")
                #expect(run.output?["quit"]?["error"]?["step"] == "quit", "the child's cancel step is named across the split too")
                let children = try await send(.GET, engine.url("/api/runs")).json?["runs"]?.list?.filter { $0["workflowRunId"]?.string != id }
                #expect(children?.count == 3)
            }
        }
    }

    @Test("an invoke whose child id is held by a run it did not start fails its step (InvokeError) instead of waiting forever for that run")
    func aTakenChildIdFailsTheInvoke() async throws {
        let child = try definition("workflow: child\nsteps:\n  - id: done\n    return: 1\n")
        let parent = try definition("""
            workflow: parent
            steps:
              - id: kid
                invoke: {workflow: child}
            output: {status: "${{ steps.kid.status }}", error: "${{ steps.kid.error }}"}
            """)
        try await RunningServer.with([]) { engine in
            try await RunningRunner.with([child, parent], engine: engine) { runner in
                let parentId = "wfr_victim"
                // The id the runner derives for the parent's child, taken first by a run of its own.
                let childId = "wfr_" + Hex.encode(SHA256.hash(data: Array("\(parentId)/kid".utf8)).prefix(16))
                let squatter = try await runner.start("child", "{}", headers: [("Upstash-Workflow-RunId", childId)])
                #expect(squatter == childId)
                _ = try await finishedRun(childId, in: engine.store)
                _ = try await runner.start("parent", "{}", headers: [("Upstash-Workflow-RunId", parentId)])
                let run = try await finishedRun(parentId, in: engine.store)
                #expect(run.status == .failed, "\(String(describing: run.output))")
                #expect(run.error?.type == "InvokeError" && run.error?.message.contains("already belongs to another run") == true,
                        "\(String(describing: run.error))")
            }
        }
    }

    @Test("a run whose step failed for good is resumed from the DLQ at that step, which runs again, as in process")
    func aResumedRunRunsItsFailedStepAgain() async throws {
        try await CountingServer.with { api in
            let calls = Mutex(0)
            api.handle("/flaky") { _ in
                calls.withLock { $0 += 1; return $0 } == 1 ? .status(500) : .json(#"{"flaky": "fine now"}"#)
            }
            let flaky = try definition("""
                workflow: flaky
                steps:
                  - id: before
                    set: {v: 1}
                  - id: fetch
                    http: {url: "\(api.url("/flaky"))"}
                    retry: {attempts: 1}
                output: ${{ steps.fetch.body.flaky }}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([flaky], engine: engine) { runner in
                    let id = try await runner.start("flaky", "{}")
                    let failed = try await finishedRun(id, in: engine.store)
                    #expect(failed.status == .failed)
                    #expect(failed.error?.message.contains("500") == true, "\(String(describing: failed.error))")
                    #expect(try await send(.POST, engine.url("/v2/workflows/dlq/resume/dlq_\(id)")).status == 200)
                    let resumed = try await finishedRun(id, in: engine.store)
                    #expect(resumed.status == .succeeded, "\(String(describing: resumed.error))")
                    #expect(resumed.output == "fine now")
                    #expect(calls.withLock { $0 } == 2)
                }
            }
        }
    }

    @Test(arguments: [false, true])
    func aFailedRunPostsUpstashsFailurePayloadToItsFailureURL(split: Bool) async throws {
        try await CountingServer.with { api in
            api.fallback("/failed", .json("{}"))
            api.fallback("/alert", .json("{}"))
            let plain = try definition("""
                workflow: plain
                failure_url: "\(api.url("/failed"))"
                steps:
                  - id: refuse
                    fail: {message: "order ${{ input.order }} refused", type: Refused}
                """)
            let handled = try definition(plain.source.replacingOccurrences(of: "workflow: plain", with: "workflow: handled") + "\n" + """
                on_failure:
                  - id: alert
                    http: {method: POST, url: "\(api.url("/alert"))", body: {error: "${{ error.message }}"}}

                """)
            try await RunningServer.with(split ? [] : [plain, handled]) { engine in
                let start: @Sendable (String, String) async throws -> String = { workflow, input in
                    try await engine.startRun(workflow, input)
                }
                let check = { (ids: [String]) async throws in
                    let notices = try await eventually("both failure notices") { api.requests(to: "/failed").count >= 2 ? api.requests(to: "/failed") : nil }
                    for (id, order) in zip(ids, [1, 2]) {
                        let notice = try #require(notices.first { $0.body.contains(id) }, "no notice of \(id)")
                        #expect(notice.header("Upstash-Workflow-Is-Failure") == "true")
                        #expect(notice.header("Upstash-Workflow-RunId") == id, "the JS SDK refuses a failure callback without it")
                        #expect(notice.header("Upstash-Signature") != nil)
                        let body = try #require(try? Value(json: notice.body))
                        #expect(body["workflowRunId"] == .string(id))
                        #expect(body["sourceBody"]?.string.flatMap { Data(base64Encoded: $0) }.flatMap { try? Value(json: String(decoding: $0, as: UTF8.self)) } == ["order": .int(Int64(order))])
                        let answer = body["body"]?.string.flatMap { Data(base64Encoded: $0) }.flatMap { try? Value(json: String(decoding: $0, as: UTF8.self)) }
                        #expect(answer?["error"] == "Refused")
                        #expect(answer?["message"] == .string("order \(order) refused"))
                    }
                    #expect(api.requests(to: "/alert").count == 1, "on_failure ran once, for the handled run")
                    #expect(api.requests(to: "/failed").count == 2, "each failed run is notified once")
                }
                guard split else {
                    try await check([try await start("plain", #"{"order": 1}"#), try await start("handled", #"{"order": 2}"#)])
                    return
                }
                try await RunningRunner.with([plain, handled], engine: engine) { runner in
                    try await check([try await runner.start("plain", #"{"order": 1}"#), try await runner.start("handled", #"{"order": 2}"#)])
                }
            }
        }
    }

    @Test func aRunKeepsItsVersionAcrossARedeployAndAVersionTheRunnerLacksFailsTheRunNamingIt() async throws {
        let first = try definition("""
            workflow: pinned
            steps:
              - id: hold
                wait_for_event: {event: "release-${{ input.key }}", timeout: 1m}
              - id: result
                set: {version: 1}
            output: ${{ steps.result.version }}
            """)
        let second = try definition(first.source.replacingOccurrences(of: "version: 1", with: "version: 2"))
        let kept = try TemporaryDirectory()
        // A runner that lacks a run's version answers as a failure worth retrying (another replica
        // may hold it): the run fails once its message's retries, fast here, are used up.
        try await RunningServer.with([], configuration: WorkflowEngine.Configuration(retryDelayScale: 0.001)) { engine in
            let (port, old, orphan) = try await RunningRunner.with([first], engine: engine, versionsDirectory: kept.path("versions")) { runner in
                let runs = (try await runner.start("pinned", #"{"key":"a"}"#), try await runner.start("pinned", #"{"key":"b"}"#))
                for key in ["a", "b"] {
                    _ = try await eventually("run \(key) to park") { try await engine.store.waiters(event: "release-\(key)").isEmpty ? nil : true }
                }
                return (runner.port, runs.0, runs.1)
            }
            try await RunningRunner.with([second], engine: engine, port: port, versionsDirectory: kept.path("versions")) { runner in
                _ = try await send(.POST, engine.url("/v2/notify/release-a"), body: "{}")
                #expect(try await finishedRun(old, in: engine.store).output == 1, "the run started on version 1 finishes on it")
                let fresh = try await runner.start("pinned", #"{"key":"c"}"#)
                _ = try await eventually("the new run to park") { try await engine.store.waiters(event: "release-c").isEmpty ? nil : true }
                _ = try await send(.POST, engine.url("/v2/notify/release-c"), body: "{}")
                #expect(try await finishedRun(fresh, in: engine.store).output == 2)
            }
            try await RunningRunner.with([second], engine: engine, port: port, versionsDirectory: nil) { _ in
                _ = try await send(.POST, engine.url("/v2/notify/release-b"), body: "{}")
                let failed = try await finishedRun(orphan, in: engine.store)
                #expect(failed.status == .failed)
                #expect(failed.error?.message.contains("version \(first.hash) of workflow 'pinned' is not known") == true, "\(String(describing: failed.error))")
                let tries = try await send(.GET, engine.url("/v2/events?workflowRunId=\(orphan)&state=RETRY")).json?["events"]?.list?.count ?? 0
                #expect(tries >= 3, "the delivery was tried again before the run failed")
            }
        }
    }

    @Test func withSigningKeysTheRunnerAcceptsOnlyDeliveriesSignedByThemAndStartsCarryingTheOrchestratorsToken() async throws {
        let hello = try definition("""
            workflow: hello
            steps:
              - id: greet
                set: {text: "hi ${{ input.name }}"}
            output: ${{ steps.greet.text }}
            """)
        try await RunningServer.with([]) { engine in
            let keys = try #require(try await send(.GET, engine.url("/v2/keys")).json)
            let signing = SigningKeys(
                current: SigningKey(try #require(keys["current"]?.string)), next: SigningKey(try #require(keys["next"]?.string)))
            try await RunningRunner.with([hello], engine: engine, signingKeys: signing) { runner in
                let unsigned = try await send(.POST, runner.url("hello"), body: #"{"name":"x"}"#, token: nil)
                #expect(unsigned.status == 401)
                #expect(try await send(.POST, runner.url("hello"), body: #"{"name":"x"}"#, token: "not-the-token").status == 401)
                let delivery = try await send(.POST, runner.url("hello"), body: "[]", headers: [("Upstash-Workflow-Sdk-Version", "1")])
                #expect(delivery.status == 401, "the orchestrator's token starts runs; it never stands for a delivery's signature")
                let byToken = try await send(.POST, runner.url("hello"), body: #"{"name":"grace"}"#)
                #expect(byToken.status == 200, "a start carrying the orchestrator's token: \(byToken.body)")
                let tokenRun = try #require(byToken.json?["workflowRunId"]?.string)
                _ = try await eventually("the run started with the token to finish") { () async throws -> Bool? in
                    try await send(.GET, engine.url("/api/runs/\(tokenRun)")).json?["output"] == "hi grace" ? true : nil
                }
                let forged = try await send(
                    .POST, runner.url("hello"), body: "[]", headers: [("Upstash-Signature", "a.b.c"), ("Upstash-Workflow-Sdk-Version", "1")],
                    token: nil)
                #expect(forged.status == 401)
                #expect(forged.body.contains("not a compact JWT") || forged.body.contains("not valid"))
                var generator = SystemRandomNumberGenerator()
                let body = #"{"name":"late"}"#
                let stale = RequestSigner(key: signing.current).signature(
                    body: Array(body.utf8), destination: runner.url("hello"), now: Int64(Date().timeIntervalSince1970) - 3_600, using: &generator)
                let expired = try await send(.POST, runner.url("hello"), body: body, headers: [("Upstash-Signature", stale)], token: nil)
                #expect(expired.status == 401)
                #expect(expired.body.contains("expired"))
                let started = try await send(
                    .POST, engine.url("/v2/publish/\(runner.url("hello"))"), body: #"{"name":"ada"}"#)
                #expect(started.status == 200, "a signed first invocation relayed by the engine starts a run")
                let output = try await eventually("the relayed run of hello to finish") { () async throws -> Value? in
                    let runs = try await send(.GET, engine.url("/api/runs")).json?["runs"]?.list ?? []
                    return runs.first { $0["status"] == "succeeded" && $0["workflowRunId"]?.string != tokenRun }?["output"]
                }
                #expect(output == "hi ada")
            }
        }
    }

    @Test("the runner reads a delivery-sized body only when its signature passes before the body is read; anything else up to 1 MiB; a delivery past its limit is not retried")
    func largeBodiesNeedAValidSignature() async throws {
        let hello = try definition("""
            workflow: hello
            steps:
              - id: greet
                set: {text: "hi"}
            """)
        let limits = ConnectionLimits(maximumMessageBytes: 3 << 20)
        try await RunningServer.with([], limits: limits) { engine in
            let keys = try #require(try await send(.GET, engine.url("/v2/keys")).json)
            let signing = SigningKeys(
                current: SigningKey(try #require(keys["current"]?.string)), next: SigningKey(try #require(keys["next"]?.string)))
            try await RunningRunner.with([hello], engine: engine, signingKeys: signing, limits: limits) { runner in
                let large = #"{"name":""# + String(repeating: "x", count: 2 << 20) + #""}"#
                let forged = try await send(.POST, runner.url("hello"), body: large, headers: [("Upstash-Signature", "a.b.c")], token: nil)
                #expect(forged.status == 413, "a signature that does not pass is no licence to send more")
                var generator = SystemRandomNumberGenerator()
                let valid = RequestSigner(key: signing.current).signature(
                    body: Array(large.utf8), destination: runner.url("hello"), now: Int64(Date().timeIntervalSince1970), using: &generator)
                let signed = try await send(.POST, runner.url("hello"), body: large, headers: [("Upstash-Signature", valid)], token: nil)
                #expect(signed.status == 200 && signed.json?["workflowRunId"]?.string != nil, "\(signed.status) \(signed.body.prefix(200))")
                let now = Int64(Date().timeIntervalSince1970)
                let elsewhere = RequestSigner(key: signing.current).signature(
                    body: Array(large.utf8), destination: runner.url("other"), now: now, using: &generator)
                let stale = RequestSigner(key: signing.current).signature(
                    body: Array(large.utf8), destination: runner.url("hello"), now: now - 3_600, using: &generator)
                for token in [elsewhere, stale] {
                    let refused = try await send(.POST, runner.url("hello"), body: large, headers: [("Upstash-Signature", token)], token: nil)
                    #expect(refused.status == 413, "a token for another URL, or an expired one, is checked before the body")
                }
                let tooLarge = String(repeating: "x", count: (3 << 20) + 1)
                let overLimit = RequestSigner(key: signing.current).signature(
                    body: Array(tooLarge.utf8), destination: runner.url("hello"), now: Int64(Date().timeIntervalSince1970), using: &generator)
                let overDelivery = try await send(.POST, runner.url("hello"), body: tooLarge, headers: [("Upstash-Signature", overLimit)], token: nil)
                #expect(overDelivery.status == 489 && overDelivery.body.contains("--max-delivery-bytes"),
                        "a valid delivery past the limit never fits later (its log only grows): not retried, saying which limit")
            }
        }
    }

    @Test func aBodyThatIsNotJSONIsTheInputAsTextOfAWorkflowThatTakesText() async throws {
        let shout = try definition("""
            workflow: shout
            input: {type: string}
            steps:
              - id: loud
                set: {text: "${{ input + '!' }}"}
            output: ${{ steps.loud.text }}
            """)
        try await RunningServer.with([]) { engine in
            try await RunningRunner.with([shout], engine: engine) { runner in
                let answer = try await send(.POST, runner.url("shout"), bytes: Array("hello there".utf8), headers: [("Content-Type", "text/plain")], token: nil)
                let id = try #require(answer.json?["workflowRunId"]?.string, "\(answer.body)")
                #expect(try await finishedRun(id, in: engine.store).output == "hello there!")
            }
        }
    }

    @Test func badDeliveriesGetClearAnswersAndRunNothing() async throws {
        let hello = try definition("""
            workflow: hello
            steps:
              - id: greet
                set: {text: hi}
            """)
        try await RunningServer.with([]) { engine in
            try await RunningRunner.with([hello], engine: engine) { runner in
                let unknown = try await send(.POST, runner.url("nope"), body: "{}", token: nil)
                #expect(unknown.status == 404)
                #expect(unknown.body.contains("no workflow named 'nope'"))
                let continuation: [(String, String)] = [("Upstash-Workflow-Sdk-Version", "1"), ("Upstash-Workflow-RunId", "wfr_bad")]
                let malformed = try await send(.POST, runner.url("hello"), body: #"{"not":"an array"}"#, headers: continuation, token: nil)
                #expect(malformed.status == 489)
                #expect(malformed.body.contains("raw step array"))
                let badStep = try await send(
                    .POST, runner.url("hello"), body: #"[{"messageId":"m0","body":"e30="},{"messageId":"m1","body":"bm90IGpzb24=","callType":"step"}]"#,
                    headers: continuation, token: nil)
                #expect(badStep.status == 489)
                #expect(badStep.body.contains("raw step 1"))
                let stale = try await send(
                    .POST, runner.url("hello"), body: #"[{"messageId":"m0","body":"e30="}]"#,
                    headers: continuation + [("Stepwise-Workflow-Version", "0000")], token: nil)
                #expect(stale.status == 500, "another replica may hold the version: worth trying again")
                #expect(stale.body.contains("version 0000 of workflow 'hello' is not known"))
                let empty = try await send(.POST, runner.url("hello"), body: "", token: nil)
                #expect(empty.status == 200, "an empty body starts a run with an empty object")
                let id = try #require(empty.json?["workflowRunId"]?.string)
                #expect(try await finishedRun(id, in: engine.store).status == .succeeded)
            }
        }
    }

    @Test(arguments: [false, true])
    func aConcurrencyLimitHoldsAcrossRunsAsInProcess(split: Bool) async throws {
        let load = InFlightGauge()
        try await CountingServer.with { api in
            api.handle("/slow") { _ in
                await load.during { try? await Task.sleep(for: .milliseconds(150)) }
                return .json("{}")
            }
            let limited = try definition("""
                workflow: limited
                concurrency: {key: "shop-${{ input.shop }}", limit: 1}
                steps:
                  - id: first
                    http: {url: "\(api.url("/slow"))"}
                  - id: second
                    http: {url: "\(api.url("/slow"))"}
                output: {shop: "${{ input.shop }}"}
                """)
            try await RunningServer.with(split ? [] : [limited]) { engine in
                let check = { (ids: [String]) async throws in
                    for id in ids { #expect(try await finishedRun(id, in: engine.store).output == ["shop": "a"]) }
                    #expect(api.requests(to: "/slow").count == 6)
                    #expect(load.highest == 1, "one delivery of the key at a time")
                }
                guard split else {
                    try await check([try await engine.startRun("limited", #"{"shop":"a"}"#), try await engine.startRun("limited", #"{"shop":"a"}"#), try await engine.startRun("limited", #"{"shop":"a"}"#)])
                    return
                }
                try await RunningRunner.with([limited], engine: engine) { runner in
                    try await check([try await runner.start("limited", #"{"shop":"a"}"#), try await runner.start("limited", #"{"shop":"a"}"#), try await runner.start("limited", #"{"shop":"a"}"#)])
                }
            }
        }
    }

    @Test func aWorkflowsScheduleStartsRunsThroughTheRunnerAndARedeployWithoutItRemovesIt() async throws {
        // The engine's clock moves only when the test moves it; its loop looks every 50 ms.
        let clock = try VirtualClock.at("2026-06-01T00:00:30Z")
        let ticker = try definition("""
            workflow: ticker
            schedule: [{cron: "* * * * *", timezone: Europe/Berlin, input: {from: cron}}]
            steps:
              - id: tick
                set: {input: "${{ input.from }}"}
            output: "${{ steps.tick }}"
            """)
        let unscheduled = try definition("""
            workflow: ticker
            steps:
              - id: tick
                set: {input: manual}
            """)
        try await RunningServer.with([], configuration: .init(maximumIdle: .milliseconds(50)), clock: { clock.now }) { engine in
            let port = try await RunningRunner.with([ticker], engine: engine) { runner in
                let schedules = try #require(try await send(.GET, engine.url("/v2/schedules")).json?.list)
                #expect(schedules.count == 1)
                #expect(schedules.first?["scheduleId"]?.string?.hasPrefix("stepwise-ticker-0-") == true)
                #expect(schedules.first?["destination"]?.string == runner.url("ticker"))
                #expect(schedules.first?["cron"] == "CRON_TZ=Europe/Berlin * * * * *")
                clock.advance(to: try TimestampValue(parsing: "2026-06-01T00:01:00Z"))
                let run = try await eventually("the tick's run") { () -> RunRecord? in
                    try await engine.store.runs(RunFilter(workflow: runner.url("ticker"))).first
                }
                #expect(try await finishedRun(run.id, in: engine.store).output == ["input": "cron"])
                return runner.port
            }
            try await RunningRunner.with([unscheduled], engine: engine, port: port) { _ async throws in
                #expect(try await send(.GET, engine.url("/v2/schedules")).json?.list == [], "the entry is gone from the file, so from QStash")
            }
            #expect(try await engine.store.runs(RunFilter()).count == 1, "one tick, one run")
        }
    }

    @Test func aRunnerReachedAtAWrongAddressFailsItsRunAtOnce() async throws {
        try await CountingServer.with { other in
            // Something else answers at the address the runner was told it has (a wrong Host, a
            // wrong --base-url): it takes the trigger's delivery with a 200, as any page would.
            let lone = try definition("""
                workflow: lone
                steps:
                  - id: hello
                    set: {greeting: hi}
                """)
            try await RunningServer.with([]) { engine in
                try await RunningRunner.with([lone], engine: engine) { runner in
                    let id = try await runner.start("lone", "{}", headers: [("Host", "127.0.0.1:\(other.port)")])
                    let run = try await finishedRun(id, in: engine.store)
                    #expect(run.status == .failed)
                    #expect(run.error?.message == QueuedAttemptResolver.nonWorkflowDestination)
                    #expect(other.requests(to: "/workflows/lone").count == 1)
                }
            }
        }
    }
}
