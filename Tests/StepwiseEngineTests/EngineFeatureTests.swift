import Foundation
import NIOHTTP1
import Synchronization
import Testing
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting

/// Engine features over real SQLite files and loopback HTTP: flow control, cron schedules and
/// the dead-letter queue.
@Suite("Engine features")
struct EngineFeatureTests {
    /// A workflow whose one step always fails: every run lands in the DLQ.
    static func doomed() throws -> WorkflowDefinition {
        try definition("""
            workflow: doomed
            steps:
              - id: boom
                fail: {message: "no luck"}
            """)
    }

    @Test("concurrency: at most `limit` deliveries per key are in flight; other keys are not held back; nothing is dropped", arguments: StoreKind.testable)
    func concurrencyLimit(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.fallback("/slow", .json("{}", delay: .milliseconds(300)))
            let limited = try definition("""
                workflow: limited
                concurrency: {key: "${{ input.group }}", limit: 1}
                steps:
                  - id: work
                    http: {url: "\(target.url("/slow"))", query: {group: "${{ input.group }}"}}
                """)
            try await RunningServer.with([limited], store: kind) { server in
                // 20 runs over 5 keys, started together: 4 deliveries of each key must queue.
                let groups = ["a", "b", "c", "d", "e"]
                var ids: [String] = []
                for _ in 0..<4 {
                    for group in groups { ids.append(try await server.startRun("limited", #"{"group": "\#(group)"}"#)) }
                }
                for id in ids { #expect(try await finishedRun(id, in: server.store).status == .succeeded) }
                let requests = target.requests(to: "/slow").sorted { $0.receivedAt < $1.receivedAt }
                #expect(requests.count == 20, "no delivery is dropped")
                for group in groups {
                    let ofGroup = requests.filter { $0.query == "group=\(group)" }
                    #expect(ofGroup.count == 4)
                    for (earlier, later) in zip(ofGroup, ofGroup.dropFirst()) {
                        #expect(later.receivedAt.timeIntervalSince(earlier.receivedAt) >= 0.29, "two deliveries of key \(group) overlapped")
                    }
                }
                // Keys do not hold each other back: every key has started before any key has finished.
                let firsts = groups.compactMap { group in requests.first { $0.query == "group=\(group)" }?.receivedAt }
                let lasts = groups.compactMap { group in requests.last { $0.query == "group=\(group)" }?.receivedAt }
                #expect(try #require(firsts.max()) < (try #require(lasts.min())))
            }
        }
    }

    @Test("a flow-control key computed to a QStash queue's own (queue:…) refuses the run's start with a 400 naming it; nothing runs")
    func queueKeysAreRefused() async throws {
        let keyed = try definition("""
            workflow: keyed
            concurrency: {key: "${{ input.k }}", limit: 1}
            steps:
              - id: work
                set: {x: 1}
            """)
        try await RunningServer.with([keyed]) { server in
            let refused = try await send(.POST, server.url("/workflows/keyed"), body: #"{"k": "queue:q1"}"#)
            #expect(refused.status == 400, "\(refused.body)")
            #expect(refused.body.contains("the concurrency key 'queue:q1' is reserved"), "\(refused.body)")
            #expect(try await server.store.runs(RunFilter(workflow: "keyed")).isEmpty)
            let id = try await server.startRun("keyed", #"{"k": "q1"}"#)
            #expect(try await finishedRun(id, in: server.store).status == .succeeded)
        }
    }

    @Test("a cancel leaves the run's request in flight holding its concurrency slot: the next run of the key starts once it ends", arguments: StoreKind.testable)
    func cancelKeepsTheSlotOfARequestInFlight(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            // Long enough for the cancel to come while the request is in flight on a loaded machine.
            target.fallback("/slow", .json("{}", delay: .seconds(6)))
            let limited = try definition("""
                workflow: limited
                concurrency: {key: downstream, limit: 1}
                steps:
                  - id: work
                    http: {url: "\(target.url("/slow"))", query: {run: "${{ run.id }}"}}
                """)
            try await RunningServer.with([limited], store: kind) { server in
                let first = try await server.startRun("limited", "{}")
                _ = try await eventually("the first run's request") { target.requests(to: "/slow").first }
                let second = try await server.startRun("limited", "{}")
                #expect(try await server.engine.cancel(runId: first))
                #expect(try await finishedRun(second, in: server.store).status == .succeeded)
                #expect(try await finishedRun(first, in: server.store).status == .canceled)
                let requests = target.requests(to: "/slow").sorted { $0.receivedAt < $1.receivedAt }
                #expect(requests.map(\.query) == ["run=\(first)", "run=\(second)"])
                let gap = try #require(requests.last).receivedAt.timeIntervalSince(try #require(requests.first).receivedAt)
                #expect(gap >= 5.95, "the second run's request started \(gap) s after the canceled run's, while it was in flight")
            }
        }
    }

    @Test("a run waiting for a concurrency slot fails at its timeout's end, not when the slot frees", arguments: StoreKind.testable)
    func timeoutWhileWaitingForASlot(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            // 30 s: the waiting run's deadline (3 s) comes long before the slot frees, also on a
            // loaded machine (at 12 s, PostgreSQL in the whole suite once failed it only at 9 s).
            target.fallback("/slow", .json("{}", delay: .seconds(30)))
            let holder = try definition("""
                workflow: holder
                concurrency: {key: shared, limit: 1}
                steps:
                  - id: work
                    http: {url: "\(target.url("/slow"))", timeout: 60s}
                """)
            let limited = try definition("""
                workflow: limited
                timeout: 3s
                concurrency: {key: shared, limit: 1}
                steps:
                  - id: work
                    http: {url: "\(target.url("/slow"))", timeout: 20s}
                """)
            try await RunningServer.with([holder, limited], store: kind) { server in
                let first = try await server.startRun("holder", "{}")
                _ = try await eventually("the first run's request") { target.requests(to: "/slow").first }
                let second = try await server.startRun("limited", "{}")
                let waited = try await finishedRun(second, in: server.store, within: .seconds(30))
                #expect(waited.status == .failed && waited.error?.type == "Timeout", "\(String(describing: waited.error))")
                let took = waited.updatedAt.date.timeIntervalSince(waited.createdAt.date)
                #expect(took >= 3 && took < 25, "the waiting run ended \(took) s after its start; the slot frees after 30 s")
                #expect(target.requests(to: "/slow").count == 1, "the waiting run never sent its request")
                _ = try await finishedRun(first, in: server.store, within: .seconds(90))
            }
        }
    }

    @Test("a run resumed from the DLQ after its timeout gets its whole timeout again and can succeed", arguments: StoreKind.testable)
    func resumeAfterATimeout(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            // Slow the first time (the run times out), quick after. 15 s: room for the resumed
            // run's request beside a loaded machine (8 s once ran out on PostgreSQL in the whole suite).
            target.script("/gate", .json(#"{"open": true}"#, delay: .seconds(40)))
            target.fallback("/gate", .json(#"{"open": true}"#))
            let gated = try definition("""
                workflow: gated
                timeout: 15s
                steps:
                  - id: gate
                    http: {url: "\(target.url("/gate"))", timeout: 60s}
                output: ${{ steps.gate.body.open }}
                """)
            try await RunningServer.with([gated], store: kind) { server in
                let id = try await server.startRun("gated", "{}")
                let timedOut = try await finishedRun(id, in: server.store, within: .seconds(60))
                #expect(timedOut.status == .failed && timedOut.error?.type == "Timeout", "\(String(describing: timedOut.error))")
                // Past the first deadline: a resume that kept it would fail at once.
                try await Task.sleep(for: .seconds(1))
                #expect(try await server.engine.resume(deadLetter: DeadLetter.id(ofRun: id)) != nil)
                let resumed = try await eventually("the resumed run to end", within: .seconds(60)) { () async throws -> RunRecord? in
                    let run = try await server.store.run(id: id)
                    return run?.status == .running ? nil : run
                }
                #expect(resumed.status == .succeeded && resumed.output == true, "\(resumed.status): \(String(describing: resumed.error))")
            }
        }
    }

    @Test("rate_limit: at most `limit` deliveries start per period per key; the excess waits", arguments: StoreKind.testable)
    func rateLimit(kind: StoreKind) async throws {
        let throttled = try definition("""
            workflow: throttled
            rate_limit: {key: api, limit: 2, period: 500ms}
            steps:
              - id: compute
                set: {x: 1}
            """)
        try await RunningServer.with([throttled], store: kind) { server in
            var ids: [String] = []
            for _ in 0..<5 { ids.append(try await server.startRun("throttled", "{}")) }
            var starts: [TimestampValue] = []
            for id in ids {
                #expect(try await finishedRun(id, in: server.store).status == .succeeded)
                starts += try await server.store.attempts(runId: id).map(\.startedAt)
            }
            starts.sort()
            #expect(starts.count == 5)
            for index in starts.indices.dropFirst(2) {
                let gap = Double(starts[index].nanosecondsSinceEpoch - starts[index - 2].nanosecondsSinceEpoch) / 1e9
                // Stored times are whole milliseconds.
                #expect(gap >= 0.499, "three deliveries started within \(gap) s")
            }
        }
    }

    @Test("a schedule starts one run per tick, exactly once across a restart; after downtime only the latest missed tick fires")
    func schedules() async throws {
        let ticker = try definition("""
            workflow: ticker
            schedule: [{cron: "* * * * *", timezone: Europe/Berlin, input: {from: cron}}]
            steps:
              - id: tick
                set: {input: "${{ input.from }}"}
            """)
        let (clock, boundary) = try VirtualStartClock.beforeAMinute()
        let shifted: @Sendable () -> TimestampValue = { clock.now() }
        let harness = try EngineHarness()
        try await harness.withEngine([ticker], clock: shifted) { node in
            let runs = try await eventually("the first tick's run") { () -> [RunRecord]? in
                let runs = try await node.store.runs(RunFilter(workflow: "ticker"))
                return runs.isEmpty ? nil : runs
            }
            #expect(runs.map(\.id) == ["wfr_sched_ticker_0_\(boundary)"])
            #expect(try await finishedRun(runs[0].id, in: node.store).output == ["input": "cron"])
            let schedule = try #require(try await node.store.schedules().first)
            #expect(schedule.nextFireAt?.nanosecondsSinceEpoch == Int128(boundary + 60) * 1_000_000_000)
        }
        try await harness.withEngine([ticker], clock: shifted) { node in
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await node.store.runs(RunFilter(workflow: "ticker")).count == 1, "a restart does not fire the same tick again")
        }
        // Down for five minutes: one run for the latest missed tick, not five.
        try await harness.withEngine([ticker], clock: { clock.now(plus: 300) }) { node in
            let runs = try await eventually("the catch-up run") { () -> [RunRecord]? in
                let runs = try await node.store.runs(RunFilter(workflow: "ticker"))
                return runs.count >= 2 ? runs : nil
            }
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await node.store.runs(RunFilter(workflow: "ticker")).count == 2)
            #expect(runs.map(\.id).contains("wfr_sched_ticker_0_\(boundary + 300)"))
        }
    }

    @Test("overlap: skip: a tick while the entry's previous run is still going starts nothing; the next tick after it ended starts one", arguments: StoreKind.testable)
    func scheduleSkipsOverlaps(kind: StoreKind) async throws {
        let nightly = try definition("""
            workflow: nightly
            schedule: [{cron: "* * * * *", overlap: skip}]
            steps:
              - id: long
                sleep: 1h
            """)
        let (clock, boundary) = try VirtualStartClock.beforeAMinute()
        let offset = Mutex<Int64>(0)
        try await RunningServer.with([nightly], store: kind, clock: { clock.now(plus: offset.withLock { $0 }) }) { server in
            let ids = { try await server.store.runs(RunFilter(workflow: "nightly")).map(\.id) }
            _ = try await eventually("the first tick's run") { try await ids().isEmpty ? nil : true }
            offset.withLock { $0 = 60 }
            let skipped = try await eventually("the second tick") { () -> ScheduleRecord? in
                let schedule = try await server.store.schedules().first
                return schedule?.lastFireAt?.secondsSinceEpoch == boundary + 60 ? schedule : nil
            }
            #expect(skipped.nextFireAt?.secondsSinceEpoch == boundary + 120, "the skipped tick moves the schedule on")
            #expect(try await ids() == ["wfr_sched_nightly_0_\(boundary)"], "no run while the first is running")
            #expect(try await server.store.cancel(runId: "wfr_sched_nightly_0_\(boundary)", at: clock.now(plus: 61)))
            offset.withLock { $0 = 120 }
            let next = try await eventually("the third tick's run") { try await ids().count == 2 ? true : nil }
            #expect(next)
            #expect(try await ids().contains("wfr_sched_nightly_0_\(boundary + 120)"))
        }
    }

    @Test("nodes with different folders keep each other's schedules; a node removes only the entries it wrote of workflows it no longer serves")
    func schedulesOfSeveralFolders() async throws {
        func ticker(_ name: String) throws -> WorkflowDefinition {
            try definition("""
                workflow: \(name)
                schedule: [{cron: "0 3 * * *"}]
                steps:
                  - id: tick
                    set: {at: now}
                """)
        }
        let (a, b) = (try ticker("ticker-a"), try ticker("ticker-b"))
        let harness = try EngineHarness()
        let workflows = { @Sendable (node: EngineNode) async throws -> [String] in try await node.store.schedules().map(\.workflow).sorted() }
        try await harness.withEngine([a], owner: LeaseOwner.current(node: "node-a").description) { first async throws in
            try await harness.withEngine([b], owner: LeaseOwner.current(node: "node-b").description) { second async throws in
                #expect(try await workflows(second) == ["ticker-a", "ticker-b"], "node-b kept node-a's schedule")
            }
            #expect(try await workflows(first) == ["ticker-a", "ticker-b"])
        }
        // node-a is deployed again without ticker-a: its entry goes, node-b's stays.
        try await harness.withEngine([], owner: LeaseOwner.current(node: "node-a").description) { node async throws in
            #expect(try await workflows(node) == ["ticker-b"])
        }
    }

    @Test("GET /v2/schedules lists each schedule with its next fire time, in QStash's forms; a workflow's entry is read by its id, and changes only with its file", arguments: StoreKind.testable)
    func listSchedules(kind: StoreKind) async throws {
        let nightly = try definition("""
            workflow: nightly
            schedule: [{cron: "0 3 * * *", timezone: America/New_York}]
            steps:
              - id: noop
                set: {x: 1}
            """)
        try await RunningServer.with([nightly], store: kind) { server in
            let answer = try await send(.GET, server.url("/v2/schedules"))
            let schedule = try #require(answer.json?.list?.first)
            #expect(schedule["workflow"] == "nightly")
            #expect(schedule["cron"] == "CRON_TZ=America/New_York 0 3 * * *", "the zone as QStash writes it in a cron")
            #expect(schedule["timezone"] == "America/New_York")
            let next = try TimestampValue(parsing: try #require(schedule["nextFire"]?.string))
            #expect(next > WorkflowEngine.systemTime())
            #expect(next.secondsSinceEpoch % 3600 == 0, "03:00 in New York is a whole UTC hour")
            #expect(schedule["nextScheduleTime"] == .int(next.millisecondsSinceEpoch), "unix milliseconds, as the qstash clients read it")
            #expect(schedule["scheduleId"] == "nightly/0")
            for path in ["nightly%2F0", "nightly/0"] {
                let read = try await send(.GET, server.url("/v2/schedules/" + path))
                #expect(read.status == 200 && read.json == schedule, "\(path): \(read.body)")
            }
            for (method, path) in [(HTTPMethod.DELETE, "nightly%2F0"), (.PATCH, "nightly%2F0/pause"), (.DELETE, "nightly/0"), (.PATCH, "nightly/0/resume")] {
                let refused = try await send(method, server.url("/v2/schedules/" + path))
                #expect(refused.status == 409 && refused.error?.contains("changes with the workflow's file") == true, "\(method) \(path): \(refused.body)")
            }
        }
    }

    @Test("a run that exhausts its retries runs on_failure once and lands in the DLQ; resume continues from the failed step", arguments: StoreKind.testable)
    func deadLetterResume(kind: StoreKind) async throws {
        try await CountingServer.with { target in
            target.script("/flaky", .status(500))
            target.fallback("/flaky", .json(#"{"fixed": true}"#))
            let fragile = try definition("""
                workflow: fragile
                steps:
                  - id: first
                    http: {url: "\(target.url("/one"))"}
                  - id: second
                    http: {url: "\(target.url("/flaky"))"}
                    retry: {attempts: 1}
                output: ${{ steps.second.body }}
                on_failure:
                  - id: alert
                    http: {url: "\(target.url("/alert"))"}
                """)
            try await RunningServer.with([fragile], store: kind) { server in
                let id = try await server.startRun("fragile", #"{"n": 1}"#)
                let failed = try await finishedRun(id, in: server.store)
                #expect(failed.status == .failed)
                #expect(target.requests(to: "/alert").count == 1)
                let list = try await send(.GET, server.url("/v2/workflows/dlq"))
                let letter = try #require(list.json?["messages"]?.list?.first)
                #expect(letter["workflowRunId"] == .string(id))
                #expect(letter["failedStep"] == "second")
                let dlqId = try #require(letter["dlqId"]?.string)

                let resumed = try await send(.POST, server.url("/v2/workflows/dlq/resume/\(dlqId)"))
                #expect(resumed.json?["workflowRunId"] == .string(id))
                let done = try await finishedRun(id, in: server.store)
                #expect(done.status == .succeeded)
                #expect(done.output == ["fixed": true])
                #expect(target.requests(to: "/one").count == 1, "the completed step is not executed again")
                #expect(target.requests(to: "/flaky").count == 2)
                #expect(try await server.store.journal(runId: id).map(\.stepName) == ["init", "first", "second"])
                #expect(try await send(.GET, server.url("/v2/workflows/dlq")).json == ["messages": [], "cursor": .null])
                #expect(try await send(.POST, server.url("/v2/workflows/dlq/resume/\(dlqId)")).status == 404)
            }
        }
    }

    @Test("restart starts a fresh run with the same input and removes the entry; DELETE removes one; unknown ids are 404", arguments: StoreKind.testable)
    func deadLetterRestartAndDelete(kind: StoreKind) async throws {
        let doomed = try definition("""
            workflow: doomed
            steps:
              - id: boom
                fail: {message: "no ${{ input.what }}"}
            """)
        try await RunningServer.with([doomed], store: kind) { server in
            let first = try await server.startRun("doomed", #"{"what": "luck"}"#)
            let second = try await server.startRun("doomed", #"{"what": "way"}"#)
            _ = try await finishedRun(first, in: server.store)
            _ = try await finishedRun(second, in: server.store)
            let restarted = try await send(.POST, server.url("/v2/workflows/dlq/restart/dlq_\(first)"))
            let fresh = try #require(restarted.json?["workflowRunId"]?.string)
            #expect(fresh != first)
            #expect(try await server.store.run(id: fresh)?.input == ["what": "luck"])
            _ = try await finishedRun(fresh, in: server.store)
            #expect(try await send(.DELETE, server.url("/v2/workflows/dlq/dlq_\(second)")).json == ["deleted": 1])
            let remaining = try await server.store.allDeadLetters().map(\.runId)
            #expect(remaining == [fresh], "the restarted run failed again and is the only entry")
            #expect(try await send(.DELETE, server.url("/v2/workflows/dlq/dlq_nope")).status == 404)
        }
    }
}

extension EngineFeatureTests {
    @Test("GET /v2/workflows/dlq answers a page at a time with a cursor, filters as Upstash's API does, and refuses what it cannot filter on")
    func deadLetterListing() async throws {
        let doomed = try Self.doomed()
        try await RunningServer.with([doomed]) { server in
            let ids = try await server.endedRuns(of: "doomed", labels: ["a", "b", "b"])
            let first = try await send(.GET, server.url("/v2/workflows/dlq?count=2"))
            #expect(first.json?["messages"]?.list?.count == 2)
            let cursor = try #require(first.json?["cursor"]?.string)
            let second = try await send(.GET, server.url("/v2/workflows/dlq?count=2&cursor=\(cursor)"))
            #expect(second.json?["cursor"] == .null, "the last page has no cursor")
            let listed = ((first.json?["messages"]?.list ?? []) + (second.json?["messages"]?.list ?? [])).compactMap { $0["workflowRunId"]?.string }
            #expect(Set(listed) == Set(ids) && listed.count == 3)

            let labeled = try await send(.GET, server.url("/v2/workflows/dlq?label=b"))
            #expect(labeled.json?["messages"]?.list?.count == 2)
            for query in ["label=a,b", "label=a&label=b", "label=a&label=zzz,b"] {
                let anyOf = try await send(.GET, server.url("/v2/workflows/dlq?\(query)"))
                #expect(anyOf.json?["messages"]?.list?.count == 3, "\(query): any of the labels")
            }
            // Where the JS SDK's client.dlq.list asks.
            let fromSDK = try await send(.GET, server.url("/v2/dlq?source=workflow&label=b"))
            #expect(fromSDK.json?["messages"]?.list?.compactMap { $0["workflowRunId"]?.string }.sorted() == Array(ids[1...]).sorted())
            let one = try await send(.GET, server.url("/v2/workflows/dlq?workflowRunId=\(ids[0])&workflow=doomed"))
            #expect(one.json?["messages"]?.list?.compactMap { $0["workflowRunId"]?.string } == [ids[0]])
            let anyWorkflow = try await send(.GET, server.url("/v2/workflows/dlq?workflow=doomed&url=http://127.0.0.1:9/x&workflowUrl=http://127.0.0.1:9/y"))
            #expect(anyWorkflow.json?["messages"]?.list?.count == 3, "any of the workflows named, by any of the three names: \(anyWorkflow.body)")
            let otherWorkflows = try await send(.GET, server.url("/v2/workflows/dlq?url=http://127.0.0.1:9/x&workflowUrl=http://127.0.0.1:9/y&workflow=nope"))
            #expect(otherWorkflows.json?["messages"]?.list?.isEmpty == true, "\(otherWorkflows.body)")
            let entry = try await send(.GET, server.url("/v2/workflows/dlq/dlq_\(ids[0])"))
            #expect(entry.json?["label"] == "a" && entry.json?["labels"] == ["a"])
            #expect(entry.json?["callerIP"] == "127.0.0.1", "the address of the client that started the run")
            #expect(try await send(.GET, server.url("/v2/workflows/dlq?callerIp=127.0.0.1")).json?["messages"]?.list?.count == 3)
            #expect(try await send(.GET, server.url("/v2/workflows/dlq?callerIP=10.0.0.1")).json?["messages"]?.list?.isEmpty == true)
            #expect(entry.json?["workflowCreatedAt"].map { if case .int = $0 { true } else { false } } == true)

            for (query, problem) in [
                ("cursor=garbage", "cursor is not one this API gave out"),
                ("count=0", "count must be a whole number from 1"), ("fromDate=yesterday", "fromDate must be unix milliseconds"),
                ("workflowRunId=a&workflowRunId=b", "give one value of workflowRunId"), ("workflow=,", "workflow ',' names no value"),
                ("failureFunctionState=CALLBACK_FAIL,LOST", "failureFunctionState must be one of"),
            ] {
                let refused = try await send(.GET, server.url("/v2/workflows/dlq?\(query)"))
                #expect(refused.status == 400, "\(query)")
                #expect(refused.error?.hasPrefix(problem) == true, "\(query): \(refused.body)")
            }
        }
    }

    @Test("the JS SDK's bulk DLQ actions: resume, restart and delete by dlqIds or by filter page after page, refusals first")
    func deadLetterBulkActions() async throws {
        let doomed = try Self.doomed()
        try await RunningServer.with([doomed]) { server in
            let ids = try await server.endedRuns(of: "doomed", labels: ["a", "b", "b", "c"])
            let entries: @Sendable () async throws -> [String] = { try await server.store.allDeadLetters().map(\.runId).sorted() }

            for (query, status, problem) in [
                ("dlqIds=dlq_\(ids[0])&label=a", 400, "dlqIds names the entries; label cannot be given with it"),
                ((0...100).map { "dlqIds=dlq_\($0)" }.joined(separator: "&"), 400, "give at most 100 dlqIds"),
                ("callerIp=&count=5", 400, "callerIp has no value"),
                // What would otherwise act on every entry.
                ("", 400, "select the entries"), ("dlqIds=", 400, "dlqIds has no value"), ("label=&count=100", 400, "label has no value"),
                ("count=100&lable=b", 400, "lable is not a parameter of a bulk DLQ action"),
            ] {
                for (method, path) in [(HTTPMethod.POST, "/resume"), (.POST, "/restart"), (.DELETE, "")] {
                    let refused = try await send(method, server.url("/v2/workflows/dlq\(path)?\(query)"))
                    #expect(refused.status == status && refused.error?.hasPrefix(problem) == true, "\(path) \(query): \(refused.body)")
                }
            }
            // Upstash's overrides: a YAML run's options are its workflow's; only its label changes.
            let yamlRefusal = "Upstash-Retries, Upstash-Delay cannot be given for a YAML run"
            let overridden = [("Upstash-Retries", "5"), ("Upstash-Delay", "10s")]
            for path in ["restart/dlq_\(ids[0])", "resume/dlq_\(ids[0])"] {
                let refused = try await send(.POST, server.url("/v2/workflows/dlq/\(path)"), headers: overridden)
                #expect(refused.status == 400 && refused.error?.hasPrefix(yamlRefusal) == true, "\(path): \(refused.body)")
            }
            for path in ["restart/dlq_\(ids[0])", "resume/dlq_\(ids[0])"] {
                let refused = try await send(.POST, server.url("/v2/workflows/dlq/\(path)"), headers: [("Upstash-Delay", "3000000d")])
                #expect(refused.error == "header 'Upstash-Delay': a delay of 3000000d ends after 9999-12-31T23:59:59Z", "\(path): \(refused.body)")
            }
            let named = try await send(.POST, server.url("/v2/workflows/dlq/resume?dlqIds=dlq_\(ids[0])"), headers: overridden)
            #expect(named.json?["workflowRuns"] == [] && named.json?["failed"]?.list?.first?["error"]?.string?.hasPrefix(yamlRefusal) == true, "\(named.body)")
            for (header, value) in [
                ("Upstash-Retries", "many"), ("Upstash-Flow-Control-Value", "parallelism=1"), ("Upstash-Label", ""), ("Upstash-Label", ","),
                ("Upstash-Timeout", "5s"), ("Upstash-Forward-X-Team", "blue"), ("Upstash-Callback-Retries", "2"),
            ] {
                let refused = try await send(.POST, server.url("/v2/workflows/dlq/resume?dlqIds=dlq_\(ids[0])"), headers: [(header, value)])
                #expect(refused.status == 400 && refused.error?.contains("header '\(header)'") == true, "\(header): \(refused.body)")
            }
            // Ids named twice, or beside a page, are refused rather than one read over the other.
            for (query, body) in [("count=5", #"{"dlqIds": ["dlq_\#(ids[0])"]}"#), ("dlqIds=dlq_\(ids[0])", #"{"dlqIds": ["dlq_\#(ids[1])"]}"#)] {
                let refused = try await send(.DELETE, server.url("/v2/workflows/dlq?\(query)"), body: body)
                #expect(refused.status == 400, "\(query) \(body): \(refused.body)")
            }
            #expect(try await entries() == ids.sorted(), "a refused request does nothing")

            // One entry by id, as `client.dlq.resume("dlq_…")` asks: the run goes on under its id,
            // with the label given.
            let resumed = try await send(.POST, server.url("/v2/workflows/dlq/resume?dlqIds=dlq_\(ids[0])"), headers: [("Upstash-Label", "a2")])
            #expect(resumed.json?["workflowRuns"]?.list?.compactMap { $0["workflowRunId"]?.string } == [ids[0]], "\(resumed.body)")
            #expect(resumed.json?["cursor"] == .null)
            #expect(try await finishedRun(ids[0], in: server.store).label == "a2")

            // By filter, one a page: the cursor leads to the next, the last page has none.
            let first = try await send(.POST, server.url("/v2/workflows/dlq/restart?label=b&count=1"))
            let cursor = try #require(first.json?["cursor"]?.string, "\(first.body)")
            let second = try await send(.POST, server.url("/v2/workflows/dlq/restart?label=b&count=1&cursor=\(cursor)"))
            #expect(second.json?["cursor"] == .null)
            let restarted = (first.json?["workflowRuns"]?.list ?? []) + (second.json?["workflowRuns"]?.list ?? [])
            let fresh = restarted.compactMap { $0["workflowRunId"]?.string }
            #expect(fresh.count == 2 && Set(fresh).isDisjoint(with: ids), "a restart is a new run")
            #expect(restarted.allSatisfy { if case .int = $0["workflowCreatedAt"] { true } else { false } })
            for id in fresh { #expect(try await finishedRun(id, in: server.store).label == "b", "a restart keeps the run's label") }
            #expect(try await entries() == ([ids[0], ids[3]] + fresh).sorted(), "the restarted entries are gone; their new runs failed anew")

            // Ids without an entry are passed over: a request tried again after it half succeeded
            // does the rest. Named in a JSON body, as Upstash's REST examples show.
            let deletedOne = try await send(.DELETE, server.url("/v2/workflows/dlq"), body: #"{"dlqIds": ["dlq_\#(ids[3])", "dlq_nope"]}"#)
            #expect(deletedOne.json?["deleted"] == 1, "\(deletedOne.body)")
            // Every entry, as `client.dlq.delete({all: true})` asks.
            let deletedAll = try await send(.DELETE, server.url("/v2/workflows/dlq?count=100"))
            #expect(deletedAll.json?["deleted"] == 3 && deletedAll.json?["cursor"] == .null, "\(deletedAll.body)")
            #expect(try await entries().isEmpty)
        }
    }

    @Test("a bulk restart names an entry it cannot act on (its workflow is gone) and goes on with the rest of the page")
    func deadLetterBulkActionPastAFailure() async throws {
        let kept = try definition("""
            workflow: kept
            steps:
              - id: boom
                fail: {message: "no luck"}
            """)
        let directory = try TemporaryDirectory()
        let ids = try await RunningServer.with([try Self.doomed(), kept], directory: directory) { server in
            var ids: [String] = []
            for workflow in ["doomed", "kept"] {
                let id = try await server.startRun(workflow, "{}")
                _ = try await finishedRun(id, in: server.store)
                ids.append(id)
            }
            return ids
        }
        // A node that no longer serves `doomed`.
        try await RunningServer.with([kept], directory: directory) { server in
            let answer = try await send(.POST, server.url("/v2/workflows/dlq/restart?count=100"))
            #expect(answer.status == 200 && answer.json?["workflowRuns"]?.list?.count == 1, "\(answer.body)")
            let failed = try #require(answer.json?["failed"]?.list, "\(answer.body)")
            #expect(failed.map { $0["dlqId"] } == [.string("dlq_\(ids[0])")])
            #expect(failed.first?["error"]?.string == "cannot restart 'dlq_\(ids[0])': no workflow named 'doomed' is served", "\(answer.body)")
            let single = try await send(.POST, server.url("/v2/workflows/dlq/restart/dlq_\(ids[0])"))
            #expect(single.status == 400 && single.error?.hasSuffix("no workflow named 'doomed' is served") == true, "\(single.body)")
            #expect(try await server.store.allDeadLetters().map(\.runId).contains(ids[0]), "the entry stays")
        }
    }

    @Test("with a run retention, a node deletes the runs that ended longer ago, their DLQ entries with them, from its start")
    func runRetention() async throws {
        let doomed = try Self.doomed()
        let directory = try TemporaryDirectory()
        let failed = try await RunningServer.with([doomed], directory: directory) { server in
            let id = try await server.startRun("doomed", "{}")
            _ = try await finishedRun(id, in: server.store)
            #expect(try await server.store.allDeadLetters().map(\.runId) == [id])
            return id
        }
        // Two hours later, a node that keeps ended runs for an hour.
        let later: @Sendable () -> TimestampValue = { (try? WorkflowEngine.systemTime().plus(seconds: 7_200)) ?? WorkflowEngine.systemTime() }
        let retention = WorkflowEngine.Configuration(runRetention: .seconds(3_600))
        let log = CapturedLog()
        try await RunningServer.with([doomed], logger: log.logger, directory: directory, configuration: retention, clock: later) { server in
            _ = try await eventually("the failed run deleted") { try await server.store.run(id: failed) == nil ? true : nil }
            _ = try await eventually("the sweep's log line") { log.text.contains("deleted 1 runs that ended before") ? true : nil }
            #expect(try await send(.GET, server.url("/api/runs/\(failed)")).status == 404)
            #expect(try await send(.GET, server.url("/v2/workflows/dlq")).json?["messages"]?.list?.isEmpty == true)
        }
    }
}

/// A clock that reads `start` the first time it is read and runs in real time from then on.
final class VirtualStartClock: Sendable {
    private let start: TimestampValue
    private let firstRead = Mutex<Date?>(nil)

    init(startingAt start: TimestampValue) {
        self.start = start
    }

    /// A clock reading `lead` milliseconds before a minute that starts at least a minute from now,
    /// and that minute in unix seconds: tests of cron ticks need not wait for the real minute
    /// however long setting up takes.
    static func beforeAMinute(leadMilliseconds lead: Int128 = 1_500) throws -> (clock: VirtualStartClock, minute: Int64) {
        let minute = (WorkflowEngine.systemTime().secondsSinceEpoch / 60 + 2) * 60
        return (VirtualStartClock(startingAt: try TimestampValue(nanosecondsSinceEpoch: Int128(minute) * 1_000_000_000 - lead * 1_000_000)), minute)
    }

    /// The virtual time, moved forward by `seconds`.
    func now(plus seconds: Int64 = 0) -> TimestampValue {
        let origin = firstRead.withLock { first in
            if first == nil { first = Date() }
            return first ?? Date()
        }
        let elapsed = Int128(Date().timeIntervalSince(origin) * 1e9) + Int128(seconds) * 1_000_000_000
        return (try? TimestampValue(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + elapsed)) ?? start
    }
}

extension RunningServer {
    /// The ids of runs of `workflow` started one after another, one with each of `labels`, each
    /// waited for until it ended.
    func endedRuns(of workflow: String, labels: [String]) async throws -> [String] {
        var ids: [String] = []
        for label in labels {
            let id = try await startRun(workflow, "{}", headers: [("Upstash-Label", label)])
            _ = try await finishedRun(id, in: store)
            ids.append(id)
        }
        return ids
    }
}
