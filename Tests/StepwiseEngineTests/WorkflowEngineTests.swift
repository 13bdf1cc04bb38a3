import Foundation
import GRDB
@testable import StepwiseEngine
@testable import StepwiseSQLite
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime
import Testing
import StepwiseTesting

/// The engine end to end: a real SQLite file, the delivery loop in a task, and real HTTP to a
/// counting server on 127.0.0.1.
@Suite("WorkflowEngine end to end", .timeLimit(.minutes(3)))
struct WorkflowEngineTests {
    // MARK: Steps and results

    @Test("http steps run in order, each exactly once, and the run ends with its output and journal", arguments: [true, false])
    func multiStepRun(warm: Bool) async throws {
        try await CountingServer.with { server in
            server.script("/orders/A-7", .json(#"{"amount": 21}"#))
            server.script("/charge", .json(#"{"charged": true}"#))
            let orders = try definition("""
                workflow: orders
                input:
                  type: object
                  required: [order]
                  properties:
                    order: {type: string}
                steps:
                  - id: fetch
                    http:
                      url: "\(server.url("/orders"))/${{ input.order }}"
                  - id: total
                    set:
                      amount: ${{ steps.fetch.body.amount * 2 }}
                  - id: charge
                    http:
                      method: POST
                      url: "\(server.url("/charge"))"
                      body:
                        order: ${{ input.order }}
                        amount: ${{ steps.total.amount }}
                output:
                  charged: ${{ steps.charge.body.charged }}
                  amount: ${{ steps.total.amount }}
                """)
            try await EngineHarness().withEngine([orders], warm: warm) { node in
                let started = try await node.start("orders", input: ["order": "A-7"])
                let run = try await finishedRun(started.id, in: node.store)
                #expect(run.status == .succeeded)
                #expect(run.error == nil)
                #expect(run.output == ["charged": true, "amount": 42])

                let journal = try await node.store.journal(runId: run.id)
                #expect(journal.map(\.stepName) == ["init", "fetch", "charge"])
                #expect(journal.map(\.stepType) == [.initial, .run, .run])
                #expect(journal.map(\.stepId) == [0, 1, 2])
                try #require(journal.count == 3)
                #expect(journal[0].out == ["order": "A-7"])
                #expect(journal[1].out?["status"] == 200)
                #expect(journal[1].out?["body"] == ["amount": 21])
                #expect(journal[2].out?["body"] == ["charged": true])

                let fetches = server.requests(to: "/orders/A-7")
                #expect(fetches.map(\.method) == ["GET"])
                #expect(fetches.map { $0.header("Idempotency-Key") } == ["\(run.id)/fetch"])
                let charges = server.requests(to: "/charge")
                #expect(charges.map(\.method) == ["POST"])
                #expect(charges.map { $0.header("Idempotency-Key") } == ["\(run.id)/charge"])
                let charge = try #require(charges.first)
                #expect(charge.header("Content-Type") == "application/json")
                #expect(try Value(json: charge.body) == ["order": "A-7", "amount": 42])
                #expect(try #require(fetches.first).receivedAt <= charge.receivedAt)

                let attempts = try await node.store.attempts(runId: run.id)
                // The run ends in the commit of its last step: one delivery per step.
                #expect(attempts.map(\.outcome) == ["submitted", "completed"])
                #expect(attempts.map(\.position) == [1, 2])
                #expect(attempts.map(\.detail) == ["fetch", "charge"])
                #expect(try await node.store.nextWakeTime() == nil, "a finished run leaves no message behind")
            }
        }
    }

    @Test("runs calling one host get a connection each: twelve requests are in flight at once, not eight")
    func concurrentRequestsToOneHost() async throws {
        try await CountingServer.with { server in
            let gate = ArrivalGate(expected: 12)
            server.handle("/slow") { _ in
                await gate.arrive()
                return .json(#"{"ok": true}"#)
            }
            let fan = try definition("""
                workflow: fan
                steps:
                  - id: call
                    http:
                      url: "\(server.url("/slow"))"
                """)
            try await EngineHarness().withEngine([fan]) { node in
                var ids: [String] = []
                for _ in 0..<12 { ids.append(try await node.start("fan").id) }
                for id in ids { #expect(try await finishedRun(id, in: node.store).status == .succeeded) }
            }
            #expect(await gate.peak == 12, "every delivery's request was sent while the others waited")
        }
    }

    @Test("a retried step sends the same Idempotency-Key on every try, waits between tries, and records one result")
    func retriesThenSuccess() async throws {
        try await CountingServer.with { server in
            server.script("/flaky", .status(503), .status(503), .json(#"{"done": true}"#))
            let flaky = try definition("""
                workflow: flaky
                steps:
                  - id: call
                    retry: {attempts: 3, backoff: constant, initial: 50ms, on: [503]}
                    http:
                      url: "\(server.url("/flaky"))"
                """)
            try await EngineHarness().withEngine([flaky]) { node in
                let run = try await finishedRun(try await node.start("flaky").id, in: node.store)
                #expect(run.status == .succeeded)
                #expect(run.output?["status"] == 200)
                #expect(run.output?["body"] == ["done": true])

                let tries = server.requests(to: "/flaky")
                #expect(tries.count == 3)
                #expect(tries.map { $0.header("Idempotency-Key") } == Array(repeating: "\(run.id)/call", count: 3))
                for (earlier, later) in zip(tries, tries.dropFirst()) {
                    // `initial: 50ms` with the default jitter waits between 25 and 50 ms.
                    #expect(later.receivedAt.timeIntervalSince(earlier.receivedAt) >= 0.025)
                }
                let journal = try await node.store.journal(runId: run.id)
                #expect(journal.map(\.stepName) == ["init", "call"])
                #expect(journal.last?.out?["status"] == 200)
                #expect(journal.last?.error == nil)
                let attempts = try await node.store.attempts(runId: run.id)
                #expect(attempts.map(\.outcome) == ["retry", "retry", "completed"])
                #expect(attempts.map(\.attempt) == [0, 1, 2])
            }
        }
    }

    @Test("a step that fails after its retries fails the run, and on_failure runs exactly once")
    func failureAfterRetriesRunsOnFailureOnce() async throws {
        try await CountingServer.with { server in
            server.fallback("/down", .status(503))
            let doomed = try definition("""
                workflow: doomed
                steps:
                  - id: call
                    retry: {attempts: 3, backoff: constant, initial: 50ms, on: [503]}
                    http:
                      url: "\(server.url("/down"))"
                  - id: never
                    http:
                      url: "\(server.url("/never"))"
                on_failure:
                  - id: alert
                    http:
                      method: POST
                      url: "\(server.url("/alert"))"
                      body:
                        run: ${{ run.id }}
                        type: ${{ error.type }}
                        step: ${{ error.step }}
                        message: ${{ error.message }}
                """)
            try await EngineHarness().withEngine([doomed]) { node in
                let run = try await finishedRun(try await node.start("doomed").id, in: node.store)
                #expect(run.status == .failed)
                #expect(run.output == nil)
                let error = try #require(run.error)
                #expect(error.type == "HTTPError")
                #expect(error.status == 503)
                #expect(error.step == "call")

                #expect(server.requests(to: "/down").count == 3)
                #expect(server.requests(to: "/never").isEmpty)
                let alerts = server.requests(to: "/alert")
                #expect(alerts.count == 1)
                let alert = try #require(alerts.first)
                #expect(alert.header("Idempotency-Key") == "\(run.id)/on_failure.alert")
                let body = try Value(json: alert.body)
                #expect(body["run"] == .string(run.id))
                #expect(body["type"] == "HTTPError")
                #expect(body["step"] == "call")
                #expect(body["message"]?.string?.contains("503") == true)

                let journal = try await node.store.journal(runId: run.id)
                #expect(journal.map(\.stepName) == ["init", "call", "on_failure.alert"])
                #expect(journal.dropFirst().first?.error?.status == 503)
                let outcomes = try await node.store.attempts(runId: run.id).map(\.outcome)
                #expect(outcomes == ["retry", "retry", "submitted", "failed", "submitted", "failure handled"])

                // Nothing is left to deliver: the handler never runs a second time.
                #expect(try await node.store.nextWakeTime() == nil)
                try await Task.sleep(for: .milliseconds(300))
                #expect(server.requests(to: "/alert").count == 1)
                #expect(try await node.store.run(id: run.id) == run)
            }
        }
    }

    @Test("a fail step ends the run as failed with its message and type; later steps never run")
    func failStep() async throws {
        try await CountingServer.with { server in
            let rejecting = try definition("""
                workflow: rejecting
                input:
                  type: object
                  properties:
                    order: {type: string}
                steps:
                  - id: check
                    set:
                      in_stock: false
                  - id: reject
                    if: ${{ !steps.check.in_stock }}
                    fail:
                      message: "order ${{ input.order }} is out of stock"
                      type: OutOfStock
                  - id: ship
                    http:
                      url: "\(server.url("/ship"))"
                """)
            try await EngineHarness().withEngine([rejecting]) { node in
                let run = try await finishedRun(try await node.start("rejecting", input: ["order": "A-7"]).id, in: node.store)
                #expect(run.status == .failed)
                #expect(run.error == StepError(message: "order A-7 is out of stock", type: "OutOfStock", step: "reject"))
                #expect(run.output == nil)
                #expect(server.requests().isEmpty)
                #expect(try await node.store.journal(runId: run.id).count == 1)
            }
        }
    }

    @Test("catch turns a failed step into the catch steps' output and the run goes on")
    func catchRecovers() async throws {
        try await CountingServer.with { server in
            server.fallback("/profile", .status(404))
            let lookup = try definition("""
                workflow: lookup
                steps:
                  - id: profile
                    http:
                      url: "\(server.url("/profile"))"
                      expect: {status: [200]}
                    catch:
                      - id: fallback
                        set:
                          source: cache
                          failed_with: ${{ error.status }}
                  - id: done
                    return:
                      source: ${{ steps.profile.source }}
                      status: ${{ steps.profile.failed_with }}
                """)
            try await EngineHarness().withEngine([lookup]) { node in
                let run = try await finishedRun(try await node.start("lookup").id, in: node.store)
                #expect(run.status == .succeeded)
                #expect(run.output == ["source": "cache", "status": 404])
                #expect(server.requests(to: "/profile").count == 1, "a 404 is not retried by default")
            }
        }
    }

    // MARK: Time

    @Test("a sleep does not end early: the next step runs after the sleep's end, and the run finishes after it")
    func sleepWaits() async throws {
        try await CountingServer.with { server in
            let napper = try definition("""
                workflow: napper
                steps:
                  - id: nap
                    sleep: 1s
                  - id: wake
                    http:
                      url: "\(server.url("/wake"))"
                """)
            try await EngineHarness().withEngine([napper]) { node in
                let before = Date()
                let started = try await node.start("napper")
                try await Task.sleep(for: .milliseconds(500))
                #expect(try await node.store.run(id: started.id)?.status == .running)
                #expect(server.requests(to: "/wake").isEmpty, "the step after the sleep ran early")

                let run = try await finishedRun(started.id, in: node.store)
                let after = Date()
                #expect(run.status == .succeeded)
                let journal = try await node.store.journal(runId: run.id)
                #expect(journal.map(\.stepName) == ["init", "nap", "wake"])
                #expect(journal.map(\.stepType) == [.initial, .sleepFor, .run])
                let until = try TimestampValue(parsing: try #require(journal.dropFirst().first?.out?["until"]?.string))
                #expect(until.date.timeIntervalSince(before) >= 1)
                let wake = try #require(server.requests(to: "/wake").first)
                #expect(wake.receivedAt >= until.date, "woken \(until.date.timeIntervalSince(wake.receivedAt))s before the sleep's end")
                #expect(after.timeIntervalSince(before) >= 1)
                #expect(run.updatedAt.date.timeIntervalSince(run.createdAt.date) >= 1)
            }
        }
    }

    /// Workflow `name` with `timeout` and `steps` (YAML list items), whose `on_failure` posts the
    /// error's type to `server`'s `/alert`.
    private func alertingOnFailure(_ name: String, timeout: String, server: CountingServer, steps: String) throws -> WorkflowDefinition {
        try definition("""
            workflow: \(name)
            timeout: \(timeout)
            steps:
            \(steps)
            on_failure:
              - id: alert
                http:
                  method: POST
                  url: "\(server.url("/alert"))"
                  body: {type: "${{ error.type }}"}
            """)
    }

    @Test("a run that outlives its timeout fails with Timeout at the deadline, not when its sleep ends, and on_failure runs")
    func runTimeout() async throws {
        try await CountingServer.with { server in
            let slowpoke = try alertingOnFailure("slowpoke", timeout: "300ms", server: server, steps: """
                  - id: nap
                    sleep: 1h
                  - id: after
                    http:
                      url: "\(server.url("/after"))"
                """)
            try await EngineHarness().withEngine([slowpoke]) { node in
                let run = try await finishedRun(try await node.start("slowpoke").id, in: node.store, within: .seconds(10))
                #expect(run.status == .failed)
                #expect(run.error?.type == "Timeout")
                #expect(run.updatedAt.date.timeIntervalSince(run.createdAt.date) >= 0.3)
                #expect(server.requests(to: "/after").isEmpty)
                #expect(server.requests(to: "/alert").map(\.body) == [#"{"type":"Timeout"}"#])
            }
        }
    }

    @Test("a last step that would answer after the run's timeout is cut off at the deadline, and the run fails with Timeout rather than ending with its answer")
    func lastStepPastTimeout() async throws {
        try await CountingServer.with { server in
            // The request comes after the run's start, so an answer 8.2 s after it comes after the
            // deadline. The timeout must leave time to send the request while every suite starts
            // at once on two cores: at 3 s, CI's start-up load once kept it from going out in time.
            server.script("/slow", .json(#"{"done": true}"#, delay: .milliseconds(8_200)))
            let late = try alertingOnFailure("late", timeout: "8s", server: server, steps: """
                  - id: slow
                    http:
                      url: "\(server.url("/slow"))"
                """)
            try await EngineHarness().withEngine([late]) { node in
                let run = try await finishedRun(try await node.start("late").id, in: node.store, within: .seconds(20))
                #expect(run.status == .failed)
                #expect(run.error?.type == "Timeout")
                #expect(try await !node.store.journal(runId: run.id).map(\.stepName).contains("slow"), "the answer, after the deadline, was not waited for")
                #expect(server.requests(to: "/slow").count == 1)
                #expect(server.requests(to: "/alert").map(\.body) == [#"{"type":"Timeout"}"#])
            }
        }
    }

    @Test("a request still in flight when the run's timeout ends is cut off then: the run fails with Timeout at its deadline, its catch does not run")
    func requestCutAtTheRunsDeadline() async throws {
        try await CountingServer.with { server in
            // 8 s: time to send the request while every suite starts at once on two cores.
            server.fallback("/slow", .json("{}", delay: .seconds(40)))
            let bounded = try alertingOnFailure("bounded", timeout: "8s", server: server, steps: """
                  - id: slow
                    http: {url: "\(server.url("/slow"))", timeout: 60s}
                    catch:
                      - id: fallback
                        http: {url: "\(server.url("/fallback"))"}
                  - id: after
                    http: {url: "\(server.url("/after"))"}
                """)
            try await EngineHarness().withEngine([bounded]) { node in
                let run = try await finishedRun(try await node.start("bounded").id, in: node.store, within: .seconds(35))
                #expect(run.status == .failed)
                #expect(run.error?.message == "the run exceeded its timeout of 8s", "\(String(describing: run.error))")
                let took = run.updatedAt.date.timeIntervalSince(run.createdAt.date)
                #expect(took >= 8 && took < 30, "the run ended \(took) s after its start, its request answering after 40 s")
                #expect(server.requests(to: "/slow").count == 1)
                #expect(server.requests(to: "/fallback").isEmpty && server.requests(to: "/after").isEmpty)
            }
        }
    }

    @Test("a run that ends within its timeout is not affected by it")
    func runWithinTimeout() async throws {
        let quick = try definition("""
            workflow: quick
            timeout: 60s
            steps:
              - id: nap
                sleep: 200ms
              - id: done
                return: finished
            """)
        try await EngineHarness().withEngine([quick]) { node in
            let run = try await finishedRun(try await node.start("quick").id, in: node.store, within: .seconds(50))
            #expect(run.status == .succeeded, "\(run.error?.description ?? "")")
            #expect(run.output == "finished")
            #expect(run.updatedAt.date.timeIntervalSince(run.createdAt.date) >= 0.2)
        }
    }

    // MARK: Cancel, restart, versions

    @Test("cancel stops a sleeping run: nothing is delivered afterwards")
    func cancelSleepingRun() async throws {
        try await CountingServer.with { server in
            let cancelable = try definition("""
                workflow: cancelable
                steps:
                  - id: nap
                    sleep: 1s
                  - id: after
                    http:
                      url: "\(server.url("/after"))"
                on_failure:
                  - id: alert
                    http:
                      url: "\(server.url("/alert"))"
                """)
            try await EngineHarness().withEngine([cancelable]) { node in
                let started = try await node.start("cancelable")
                try await parked(started.id, "nap", in: node.store)
                #expect(try await node.engine.cancel(runId: started.id))
                #expect(try await !node.engine.cancel(runId: started.id), "a canceled run cannot be canceled again")
                let attempts = try await node.store.attempts(runId: started.id)
                #expect(try await node.store.nextWakeTime() == nil)

                // Well past the end of the sleep.
                try await Task.sleep(for: .milliseconds(1_500))
                let run = try #require(try await node.store.run(id: started.id))
                #expect(run.status == .canceled)
                #expect(server.requests().isEmpty)
                #expect(try await node.store.journal(runId: started.id).map(\.stepName) == ["init"])
                #expect(try await node.store.progress(runId: started.id).pending.isEmpty, "the sleep's timer is dropped")
                #expect(try await node.store.attempts(runId: started.id) == attempts)
            }
        }
    }

    @Test("a run survives an engine restart mid-sleep: a new engine on the same file finishes it without redoing steps")
    func restartRecovery() async throws {
        try await CountingServer.with { server in
            server.script("/first", .json(#"{"n": 1}"#))
            server.script("/second", .json(#"{"n": 2}"#))
            let durable = try definition("""
                workflow: durable
                steps:
                  - id: first
                    http:
                      url: "\(server.url("/first"))"
                  - id: nap
                    sleep: 3s
                  - id: second
                    http:
                      url: "\(server.url("/second"))"
                output:
                  first: ${{ steps.first.body.n }}
                  second: ${{ steps.second.body.n }}
                """)
            // The sleep outlasts the check that it is parked even on a loaded machine: a CI run
            // once saw a 1 s sleep end before the check first looked, and waited for nothing.
            let harness = try EngineHarness()
            let id = try await harness.withEngine([durable]) { node in
                let started = try await node.start("durable")
                try await parked(started.id, "nap", in: node.store)
                return started.id
            }
            // The first engine is gone, mid-sleep.
            let sleeping = try await SQLiteStore(path: harness.databasePath).run(id: id)
            #expect(sleeping?.status == .running)
            #expect(server.requests(to: "/second").isEmpty)

            try await harness.withEngine([durable]) { node in
                let run = try await finishedRun(id, in: node.store)
                #expect(run.status == .succeeded)
                #expect(run.output == ["first": 1, "second": 2])
                let journal = try await node.store.journal(runId: id)
                #expect(journal.map(\.stepName) == ["init", "first", "nap", "second"])
                #expect(server.requests(to: "/first").count == 1, "a journaled step must be replayed, not sent again")
                #expect(server.requests(to: "/second").count == 1)
                let until = try TimestampValue(parsing: try #require(journal[2].out?["until"]?.string))
                #expect(try #require(server.requests(to: "/second").first).receivedAt >= until.date)
            }
        }
    }

    @Test("a delivery leased by a node that died on another host is delivered again once the lease expires, not before")
    func expiredLeaseIsRedelivered() async throws {
        try await CountingServer.with { server in
            let single = try definition("""
                workflow: single
                steps:
                  - id: work
                    http:
                      url: "\(server.url("/work"))"
                """)
            let harness = try EngineHarness()
            // A node starts the run and claims its first delivery, then dies without finishing it.
            let store = try SQLiteStore(path: harness.databasePath)
            let runner = WorkflowRunner(http: AsyncHTTPTransport(), secrets: EnvironmentSecrets([:]), clock: WorkflowEngine.systemTime)
            let elsewhere = LeaseOwner(node: "crashed-node", host: "elsewhere.test", pid: 4242, started: "1").description
            let crashed = WorkflowEngine(store: store, runner: runner, owner: elsewhere, logger: silentLogger)
            try await crashed.install([single])
            let run = try await crashed.start(workflow: "single", input: [:]).run
            let now = WorkflowEngine.systemTime()
            let leaseEnd = try now.plus(seconds: 0.5)
            #expect(try await store.claimDueMessages(now: now, limit: 10, owner: elsewhere, leaseUntil: leaseEnd).count == 1)

            // The idle loop wakes when the earliest lease ends, not after its longest idle wait, which
            // here outlasts the wait for the run: a takeover at all shows it, however loaded the machine.
            let patient = WorkflowEngine.Configuration(maximumIdle: .seconds(600))
            try await harness.withEngine([single], owner: "node-2", configuration: patient) { node in
                let finished = try await finishedRun(run.id, in: node.store, within: .seconds(120))
                #expect(finished.status == .succeeded)
                let requests = server.requests(to: "/work")
                #expect(requests.count == 1)
                #expect(try #require(requests.first).receivedAt >= leaseEnd.date, "delivered while another node held the lease")
            }
        }
    }

    @Test(
        "a node that restarts releases its predecessor's leases and delivers them at once: under a fixed name, or of a process on this host that is gone",
        arguments: [false, true])
    func restartReleasesOwnLeases(processGone: Bool) async throws {
        let single = try definition("""
            workflow: single
            steps:
              - id: done
                return: 1
            """)
        let harness = try EngineHarness()
        let store = try SQLiteStore(path: harness.databasePath)
        let runner = WorkflowRunner(http: AsyncHTTPTransport(), secrets: EnvironmentSecrets([:]), clock: WorkflowEngine.systemTime)
        let crashed = processGone ? LeaseOwner(node: "api", host: LeaseOwner.current().host, pid: try exitedProcessId(), started: "1").description : "node-1"
        let before = WorkflowEngine(store: store, runner: runner, owner: crashed, logger: silentLogger)
        try await before.install([single])
        let run = try await before.start(workflow: "single", input: [:]).run
        let now = WorkflowEngine.systemTime()
        // Leased for 15 minutes by a node that then crashed.
        #expect(try await store.claimDueMessages(now: now, limit: 10, owner: crashed, leaseUntil: now.plus(seconds: 900)).count == 1)
        try await harness.withEngine([single], owner: processGone ? LeaseOwner.current(node: "api").description : crashed) { node in
            let finished = try await finishedRun(run.id, in: node.store, within: .seconds(10))
            #expect(finished.status == .succeeded)
            #expect(finished.output == 1)
        }
    }

    @Test(
        "stopping the engine lets a delivery in flight finish and record its step, also while the loop waits on the database",
        arguments: [false, true])
    func gracefulStop(whileDatabaseIsLocked: Bool) async throws {
        try await CountingServer.with { server in
            server.script("/slow", .json(#"{"slow": true}"#, delay: .milliseconds(whileDatabaseIsLocked ? 600 : 400)))
            let slow = try definition("""
                workflow: slow
                steps:
                  - id: call
                    http:
                      url: "\(server.url("/slow"))"
                  - id: nap
                    sleep: 1h
                """)
            let harness = try EngineHarness()
            // With the lock, the loop looks at the store every few milliseconds, so it is soon inside a query.
            let configuration = whileDatabaseIsLocked ? WorkflowEngine.Configuration(maximumIdle: .milliseconds(5)) : WorkflowEngine.Configuration()
            let node = try await EngineNode.start(databasePath: harness.databasePath, definitions: [slow], configuration: configuration)
            let started = try await node.start("slow")
            _ = try await eventually("the slow request to arrive") { server.requests(to: "/slow").first }
            var lock: WriteLock?
            if whileDatabaseIsLocked {
                // Another process holds the write lock for a moment: the loop's next claim waits for it.
                let held = try WriteLock(path: harness.databasePath, holdFor: 0.3)
                _ = try await eventually("the write lock to be taken") { held.wasTaken ? true : nil }
                try await Task.sleep(for: .milliseconds(100))
                lock = held
            }
            await node.stop()
            let journal = try await node.store.journal(runId: started.id)
            #expect(journal.map(\.stepName) == ["init", "call"], "the engine stopped before its delivery in flight was recorded")
            #expect(journal.last?.out?["body"] == ["slow": true])
            if let lock {
                _ = try await eventually("the write lock to be released", within: .seconds(5)) { lock.isHeld ? nil : true }
            }
        }
    }

    @Test("an idle engine sleeps until the next due time instead of polling the store")
    func idleEngineDoesNotPoll() async throws {
        let clock = CountingClock()
        let idle = try definition("""
            workflow: idle
            steps:
              - id: nap
                sleep: 1h
            """)
        let log = CapturedLog()
        try await EngineHarness().withEngine([idle], clock: clock.now, logger: log.logger) { node in
            let started = try await node.start("idle")
            try await parked(started.id, "nap", in: node.store)
            // The turns that follow the delivery's end may come late on a busy machine (the whole
            // suite runs at once on two cores): wait for a quiet 0.4 s first (an engine that polls
            // never has one, and fails here).
            _ = try await eventually("the delivery loop to go to sleep", within: .seconds(10)) { () async throws -> Bool? in
                let before = clock.count
                try await Task.sleep(for: .milliseconds(400))
                return clock.count == before ? true : nil
            }
            // A turn reads the clock about six times. Over 2 s, a turn or two starved until now
            // stay under 16 reads; an engine that polls even every half second makes more.
            let before = clock.count
            try await Task.sleep(for: .seconds(2))
            let reads = clock.count - before
            #expect(reads <= 16, "the delivery loop read the clock \(reads) times in 2 s with nothing to do; its log: \(log.text)")
            #expect(try await node.engine.cancel(runId: started.id))
        }
    }

    @Test("a run stays pinned to the definition it started with; new runs use the new one")
    func runsArePinnedToTheirDefinition() async throws {
        try await CountingServer.with { server in
            let (v1, v2) = try versions(server)
            try await EngineHarness().withEngine([v1]) { node in
                let old = try await node.start("versioned")
                _ = try await journal(of: old.id, in: node.store, reaching: 2)
                try await node.engine.install([v2])
                let new = try await node.start("versioned")
                #expect(new.definitionHash == v2.hash)
                #expect(old.definitionHash == v1.hash)

                let oldRun = try await finishedRun(old.id, in: node.store)
                let newRun = try await finishedRun(new.id, in: node.store)
                #expect(oldRun.status == .succeeded)
                #expect(oldRun.output == "v1")
                #expect(try await node.store.journal(runId: old.id).map(\.stepName) == ["init", "nap", "report"])
                #expect(newRun.status == .succeeded)
                #expect(newRun.output == "v2")
                #expect(try await node.store.journal(runId: new.id).map(\.stepName) == ["init", "announce", "nap", "report"])
                let reports = try server.requests(to: "/report").map { try Value(json: $0.body) }
                #expect(Set(reports.map { $0.jsonText() }) == [#"{"version":1}"#, #"{"version":2}"#])
                #expect(try await Set(node.store.definitions().map(\.hash)) == [v1.hash, v2.hash])
            }
        }
    }

    @Test("after a restart that deploys a new version, a run pinned to the old version finishes with it")
    func pinnedAcrossRestart() async throws {
        try await CountingServer.with { server in
            let (v1, v2) = try versions(server)
            let harness = try EngineHarness()
            let id = try await harness.withEngine([v1]) { node in
                let old = try await node.start("versioned")
                _ = try await journal(of: old.id, in: node.store, reaching: 2)
                return old.id
            }
            try await harness.withEngine([v2]) { node in
                #expect(await node.engine.workflows["versioned"]?.hash == v2.hash)
                let run = try await finishedRun(id, in: node.store)
                #expect(run.status == .succeeded, "\(run.error?.description ?? "")")
                #expect(run.output == "v1")
                #expect(server.requests(to: "/announce").isEmpty)
                #expect(try server.requests(to: "/report").map { try Value(json: $0.body) } == [["version": 1]])
            }
        }
    }

    @Test("a version stored before a rule for new versions came (a queue's flow-control key, SW036) still runs the run pinned to it")
    func aStoredVersionOutlivesANewRule() async throws {
        let source = """
            workflow: legacy
            concurrency: {key: "queue:old", limit: 1}
            steps:
              - id: done
                return: 7
            """
        let file = WorkflowFile(path: "legacy.yaml", source: source)
        #expect(file.hasErrors && file.runsAsStored, "refused as a deploy, read as a stored version: \(file.diagnostics)")
        let workflow = try #require(file.workflow)
        let stored = WorkflowDefinition(workflow: workflow, source: source)
        let harness = try EngineHarness()
        let other = try SQLiteStore(path: harness.databasePath)
        let now = WorkflowEngine.systemTime()
        try await other.saveDefinition(StoredDefinition(hash: stored.hash, workflow: "legacy", source: source))
        _ = try await other.createRun(RunRecord(id: "wfr_legacy", workflow: "legacy", definitionHash: stored.hash, input: [:], createdAt: now, updatedAt: now))
        try await harness.withEngine([]) { node in
            let run = try await finishedRun("wfr_legacy", in: node.store)
            #expect(run.status == .succeeded && run.output == 7, "\(String(describing: run.error))")
        }
    }

    @Test(
        "a node delivers a run pinned to a version another node stored after it started; one it cannot read waits for a node that can; one nowhere fails to the DLQ")
    func versionsFromTheStoreOrNowhere() async throws {
        try await CountingServer.with { server in
            let (v1, v2) = try versions(server)
            let harness = try EngineHarness()
            let other = try SQLiteStore(path: harness.databasePath)
            let now = WorkflowEngine.systemTime()
            // A version stored by a node whose language accepts what this one does not.
            try await other.saveDefinition(StoredDefinition(hash: "0badc0de", workflow: "versioned", source: "workflow: versioned\nsteps: 42\n"))
            _ = try await other.createRun(RunRecord(id: "wfr_newer", workflow: "versioned", definitionHash: "0badc0de", input: [:], createdAt: now, updatedAt: now))
            // A run whose version is gone from the store (possible only behind the store's back).
            try await other.saveDefinition(StoredDefinition(hash: "5ca1ab1e", workflow: "versioned", source: v1.source))
            _ = try await other.createRun(RunRecord(id: "wfr_lost", workflow: "versioned", definitionHash: "5ca1ab1e", input: [:], createdAt: now, updatedAt: now))
            var unchecked = Configuration()
            unchecked.foreignKeysEnabled = false
            try await DatabaseQueue(path: harness.databasePath, configuration: unchecked).write { db in
                try db.execute(sql: "DELETE FROM definitions WHERE hash = '5ca1ab1e'")
            }
            // Nothing tells this node of another's work on SQLite: it looks at the store often.
            try await harness.withEngine([v2], configuration: .init(maximumIdle: .milliseconds(50))) { node in
                // Another node, started later with v1, stores it and starts a run pinned to it.
                try await other.saveDefinition(StoredDefinition(hash: v1.hash, workflow: "versioned", source: v1.source))
                _ = try await other.createRun(RunRecord(id: "wfr_v1", workflow: "versioned", definitionHash: v1.hash, input: [:], createdAt: now, updatedAt: now))
                let run = try await finishedRun("wfr_v1", in: node.store)
                #expect(run.status == .succeeded, "\(run.error?.description ?? "")")
                #expect(run.output == "v1")

                let failed = try await finishedRun("wfr_lost", in: node.store)
                #expect(failed.status == .failed)
                #expect(failed.error?.message.contains("version 5ca1ab1e of workflow 'versioned'") == true, "\(failed.error?.description ?? "")")
                #expect(try await node.store.allDeadLetters().map(\.runId) == ["wfr_lost"])

                #expect(try await node.store.run(id: "wfr_newer")?.status == .running, "it waits for a node that can read its version")
                // Put off by QStash's first backoff (12 s), on however loaded a machine. While an
                // attempt is under way the store's next wake time is its lease's end (60 s):
                // a reading then is not the put-off yet.
                let retry = try await eventually("the unreadable version's delivery put off by 12 s") { () -> TimestampValue? in
                    let seen = WorkflowEngine.systemTime()
                    let due = try await node.store.nextWakeTime()
                    return due.flatMap { $0 > now.movedForward(by: .seconds(10)) && $0 <= seen.movedForward(by: .seconds(13)) ? $0 : nil }
                }
                #expect(try await node.store.run(id: "wfr_newer")?.status == .running, "still waiting at \(retry) for a node that can read it")
            }
        }
    }

    /// Two incompatible versions of one workflow: v2 has a durable step before the sleep.
    private func versions(_ server: CountingServer) throws -> (WorkflowDefinition, WorkflowDefinition) {
        let v1 = try definition("""
            workflow: versioned
            steps:
              - id: nap
                sleep: 1s
              - id: report
                http:
                  method: POST
                  url: "\(server.url("/report"))"
                  body: {version: 1}
            output: v1
            """)
        let v2 = try definition("""
            workflow: versioned
            steps:
              - id: announce
                http:
                  url: "\(server.url("/announce"))"
              - id: nap
                sleep: 100ms
              - id: report
                http:
                  method: POST
                  url: "\(server.url("/report"))"
                  body: {version: 2}
            output: v2
            """)
        #expect(v1.hash != v2.hash)
        return (v1, v2)
    }

    // MARK: Starting

    @Test("input that violates the input schema is rejected with every reason, and no run is created")
    func inputSchemaViolations() async throws {
        let typed = try definition("""
            workflow: typed
            input:
              type: object
              required: [name, age]
              properties:
                name: {type: string, minLength: 1}
                age: {type: integer, minimum: 0}
              additionalProperties: false
            steps:
              - id: done
                return: ${{ input.name }}
            """)
        try await EngineHarness().withEngine([typed]) { node in
            await #expect(throws: StartError.invalidInput([
                "/name must be at least 1 character long", "/age must be integer, got string",
                "/extra is not allowed (additionalProperties is false)",
            ])) {
                _ = try await node.engine.start(workflow: "typed", input: ["name": "", "age": "ten", "extra": true])
            }
            await #expect(throws: StartError.invalidInput([
                "the input is missing the required property 'name'", "the input is missing the required property 'age'",
            ])) {
                _ = try await node.engine.start(workflow: "typed", input: [:])
            }
            await #expect(throws: StartError.invalidInput(["/age must be at least 0"]), "a bound as written, not 0.0") {
                _ = try await node.engine.start(workflow: "typed", input: ["name": "Ada", "age": -1])
            }
            await #expect(throws: StartError.invalidInput(["the input must be object, got string"])) {
                _ = try await node.engine.start(workflow: "typed", input: "Ada")
            }
            await #expect(throws: StartError.unknownWorkflow("nope")) {
                _ = try await node.engine.start(workflow: "nope", input: [:])
            }
            #expect(try await node.store.runs(RunFilter()).isEmpty)

            let valid = try await node.start("typed", input: ["name": "Ada", "age": 36])
            #expect(try await finishedRun(valid.id, in: node.store).output == "Ada")
        }
    }

    @Test("a whole number sent as 2.0 where the schema says integer is computed with as an integer, nested and in lists; one beyond 64 bits is refused")
    func wholeNumbersAsIntegers() async throws {
        let counting = try definition("""
            workflow: counting
            input:
              type: object
              properties:
                n: {type: integer}
                ratio: {type: number}
                order: {type: object, properties: {items: {type: array, items: {type: integer}}}}
            concurrency: {key: "n-${{ input.n }}", limit: 1}
            steps:
              - id: sum
                set:
                  next: ${{ input.n + 1 }}
                  kind: ${{ type(input.n) }}
                  ratio: ${{ type(input.ratio) }}
                  total: ${{ input.order.items[0] + input.order.items[1] }}
              - id: done
                return: ${{ steps.sum }}
            """)
        try await EngineHarness().withEngine([counting]) { node in
            let run = try await node.start("counting", input: ["n": .double(1.0), "ratio": .double(2.0), "order": ["items": [.double(3.0), 4]]])
            let finished = try await finishedRun(run.id, in: node.store)
            #expect(finished.output == ["next": 2, "kind": "int", "ratio": "double", "total": 7], "\(String(describing: finished.error))")
            #expect(finished.flowControl?.concurrencyKey == "n-1")
            let largest = try await node.start("counting", input: ["n": .double(9_007_199_254_740_991.0), "ratio": 1, "order": ["items": [1, 2]]])
            let exact = try await finishedRun(largest.id, in: node.store)
            #expect(exact.output?["next"] == 9_007_199_254_740_992, "below 2^53 a double is exact: \(String(describing: exact.error))")
            // -9223372036854775809 in JSON: no 64-bit integer holds it, and it reads as the double -2^63.
            // 9007199254740993.0 in JSON reads as the double 2^53.
            for beyond in [1e20, -9_223_372_036_854_775_808.0, 9_007_199_254_740_994.0, 9_007_199_254_740_992.0, -9_007_199_254_740_992.0] {
                await #expect(throws: StartError.invalidInput([
                    "/n must be integer, got a number beyond what can be computed with exactly (a whole number of 2^53 or more written with a fraction or an exponent, or beyond 64 bits)"
                ])) {
                    _ = try await node.engine.start(workflow: "counting", input: ["n": .double(beyond)])
                }
            }
        }
    }

    @Test("a property the input leaves out takes its schema's default, nested too; the run's stored input stays as sent")
    func defaultsFillWhatTheInputLeavesOut() async throws {
        let plans = try definition("""
            workflow: plans
            input:
              type: object
              properties:
                plan: {type: string, enum: [free, pro], default: free}
                seats: {type: integer, default: 1}
                billing: {type: object, default: {}, properties: {currency: {type: string, default: EUR}}}
            concurrency: {key: "plan-${{ input.plan }}", limit: 5}
            steps:
              - id: done
                return: {plan: "${{ input.plan }}", seats: "${{ input.seats + 1 }}", currency: "${{ input.billing.currency }}", has: "${{ has(input.plan) }}"}
            """)
        try await EngineHarness().withEngine([plans]) { node in
            let defaulted = try await finishedRun(try await node.start("plans", input: [:]).id, in: node.store)
            #expect(defaulted.output == ["plan": "free", "seats": 2, "currency": "EUR", "has": true], "\(String(describing: defaulted.error))")
            #expect(defaulted.input == [:])
            #expect(defaulted.flowControl?.concurrencyKey == "plan-free")
            let given = try await finishedRun(try await node.start("plans", input: ["plan": "pro", "billing": ["currency": "USD"]]).id, in: node.store)
            #expect(given.output == ["plan": "pro", "seats": 2, "currency": "USD", "has": true])
        }
    }

    @Test("starting with a run id twice returns the same run and runs it once")
    func idempotentStart() async throws {
        try await CountingServer.with { server in
            let once = try definition("""
                workflow: once
                steps:
                  - id: charge
                    http:
                      url: "\(server.url("/charge"))"
                """)
            try await EngineHarness().withEngine([once]) { node in
                let first = try await node.engine.start(workflow: "once", input: ["n": 1], runId: "order-42")
                let second = try await node.engine.start(workflow: "once", input: ["n": 2], runId: "order-42")
                #expect(first.created)
                #expect(!second.created)
                #expect(second.run.id == "order-42")
                #expect(second.run.input == ["n": 1])
                #expect(try await finishedRun("order-42", in: node.store).status == .succeeded)
                #expect(server.requests(to: "/charge").count == 1)
                #expect(try await node.store.runs(RunFilter()).count == 1)
            }
        }
    }
}

/// Holds each arriving request until `expected` are in flight together (or 30 s passed: the
/// whole suite on two cores once took more than 10 s to start twelve deliveries), and records
/// the most that were.
actor ArrivalGate {
    private let expected: Int
    private var inFlight = 0
    private var released = false
    private(set) var peak = 0

    init(expected: Int) {
        self.expected = expected
    }

    func arrive() async {
        inFlight += 1
        peak = max(peak, inFlight)
        if inFlight >= expected { released = true }
        let deadline = ContinuousClock.now + .seconds(30)
        while !released, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        inFlight -= 1
    }
}
