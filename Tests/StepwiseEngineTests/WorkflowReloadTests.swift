import Foundation
import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseTesting
import Testing

/// `WorkflowEngine.reload`, what `stepwise serve` does on SIGHUP: the folder read again becomes
/// exactly what is served, and runs already started keep their versions.
@Suite("Reloading the served workflows")
struct WorkflowReloadTests {
    static func greeter(_ text: String) -> String {
        """
        workflow: greeter
        steps:
          - id: paid
            wait_for_event: {event: "go-${{ input.n }}", timeout: 1h}
          - id: say
            set: {text: "\(text)"}
        output: ${{ steps.say.text }}
        """
    }

    static let nightly = """
        workflow: nightly
        schedule: [{cron: "0 2 * * *"}]
        steps:
          - id: work
            set: {done: true}
        """

    static let fresh = """
        workflow: fresh
        schedule: [{cron: "0 3 * * *"}]
        steps:
          - id: hello
            set: {text: hi}
        output: ${{ steps.hello.text }}
        """

    @Test("a reload adds, changes and removes workflows and their schedules; a run started before finishes on its version; a removed workflow starts no run")
    func reloadReplacesWhatIsServed() async throws {
        try await RunningServer.with([try definition(Self.greeter("old")), try definition(Self.nightly)]) { server in
            let engine = server.engine
            let before = try await engine.start(workflow: "greeter", input: ["n": 1]).run
            try await parked(before.id, "paid", in: server.store)
            #expect(try await server.store.schedules().map(\.workflow) == ["nightly"])

            let change = try await engine.reload([try definition(Self.greeter("new")), try definition(Self.fresh)])
            #expect(change.added == ["fresh"] && change.changed == ["greeter"] && change.removed == ["nightly"] && change.unchanged == 0)
            #expect("\(change)" == "added fresh; changed greeter; removed nightly; 0 unchanged")
            #expect(await engine.workflows.keys.sorted() == ["fresh", "greeter"])
            #expect(try await server.store.schedules().map(\.workflow) == ["fresh"], "the removed workflow's schedule is gone, the added one's kept")

            let after = try await engine.start(workflow: "greeter", input: ["n": 2]).run
            try await parked(after.id, "paid", in: server.store)
            _ = try await engine.notify(event: "go-1", data: [:])
            _ = try await engine.notify(event: "go-2", data: [:])
            #expect(try await finishedRun(before.id, in: server.store).output == "old", "pinned to the version it started on")
            #expect(try await finishedRun(after.id, in: server.store).output == "new")
            await #expect(throws: StartError.unknownWorkflow("nightly")) { try await engine.start(workflow: "nightly", input: [:]) }

            let same = try await engine.reload([try definition(Self.greeter("new")), try definition(Self.fresh)])
            #expect(same.added.isEmpty && same.changed.isEmpty && same.removed.isEmpty && same.unchanged == 2)
        }
    }

    @Test("a reload whose schedules the store refuses changes nothing served")
    func refusedReloadChangesNothing() async throws {
        let directory = try TemporaryDirectory()
        try await RunningServer.with([try definition(Self.greeter("old")), try definition(Self.nightly)], directory: directory) { server in
            // The store refuses to change its schedules (a trigger another connection made), so
            // the reload fails as it stores them, after the switch. (Moving the store file away
            // instead failed the reload at a read, before the switch, whenever the read opened a
            // new connection.)
            var waiting = Configuration()
            waiting.busyMode = .timeout(10)
            let other = try DatabaseQueue(path: directory.path("stepwise.db"), configuration: waiting)
            try await other.write { db in
                for change in ["INSERT", "DELETE"] {
                    try db.execute(sql: "CREATE TRIGGER refuse_\(change) BEFORE \(change) ON schedules BEGIN SELECT RAISE(ABORT, 'schedules refused'); END")
                }
            }
            try other.close()
            await #expect { try await server.engine.reload([try definition(Self.greeter("old"))]) } throws: { "\($0)".contains("schedules refused") }
            #expect(await server.engine.workflows.keys.sorted() == ["greeter", "nightly"], "the workflows served before are served still")
            #expect(try await server.store.schedules().map(\.workflow) == ["nightly"])
            let run = try await server.engine.start(workflow: "nightly", input: [:]).run
            #expect(try await finishedRun(run.id, in: server.store).status == .succeeded)
        }
    }

    @Test("a run started before a reload that removed the workflow it invokes still starts its child, in its last version; clients cannot")
    func invokeOfARemovedWorkflow() async throws {
        let parent = try definition(Self.parent)
        let child = try definition(Self.child(7))
        try await RunningServer.with([parent, child]) { server in
            let run = try await server.engine.start(workflow: "parent", input: [:]).run
            try await parked(run.id, "go", in: server.store)
            #expect(try await server.engine.reload([]).removed == ["child", "parent"])
            _ = try await server.engine.notify(event: "go", data: [:], runId: run.id)
            let finished = try await finishedRun(run.id, in: server.store)
            #expect(finished.status == .succeeded && finished.output == 7, "\(finished)")
            await #expect(throws: StartError.unknownWorkflow("child")) { try await server.engine.start(workflow: "child", input: [:]) }
        }
    }

    @Test("after a restart, a run started before a reload that removed the workflow it invokes starts its child in the last stored version")
    func invokeOfARemovedWorkflowAfterARestart() async throws {
        let parent = try definition(Self.parent)
        let directory = try TemporaryDirectory()
        let run = try await RunningServer.with([parent, try definition(Self.child(1))], directory: directory) { server in
            #expect(try await server.engine.reload([parent, try definition(Self.child(2))]).changed == ["child"])
            let run = try await server.engine.start(workflow: "parent", input: [:]).run
            try await parked(run.id, "go", in: server.store)
            #expect(try await server.engine.reload([parent]).removed == ["child"])
            return run
        }
        // Restarted with the folder as the reload left it: the child is only in the store.
        try await RunningServer.with([parent], directory: directory) { server in
            _ = try await server.engine.notify(event: "go", data: [:], runId: run.id)
            let finished = try await finishedRun(run.id, in: server.store)
            #expect(finished.status == .succeeded && finished.output == 2, "\(finished)")
            await #expect(throws: StartError.unknownWorkflow("child")) { try await server.engine.start(workflow: "child", input: [:]) }
        }
    }

    /// Waits for `go`, then invokes `child` and outputs its output.
    static let parent = """
        workflow: parent
        steps:
          - id: go
            wait_for_event: {event: go, timeout: 1h}
          - id: child
            invoke: {workflow: child, input: {}}
        output: ${{ steps.child.output }}
        """

    static func child(_ value: Int) -> String {
        "workflow: child\nsteps:\n  - id: x\n    set: {v: \(value)}\noutput: ${{ steps.x.v }}\n"
    }
}
