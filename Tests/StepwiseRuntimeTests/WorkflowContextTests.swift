import Testing
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting

/// `WorkflowContext` used directly, as code-first workflows use it: each operation replays its
/// journaled result or submits itself, and parallel groups submit every branch's next step.
@Suite("WorkflowContext")
struct WorkflowContextTests {
    let start = (try? TimestampValue(parsing: "2026-01-01T00:00:00Z")) ?? .epoch

    private func context(_ entries: [JournalEntry], pending: Set<String> = []) -> WorkflowContext {
        WorkflowContext(
            runId: "r1", workflowName: "code", journal: [.initial(["n": 2])] + entries, pending: pending, startedAt: start, now: start)
    }

    /// Runs `body` and returns what it submitted, or `nil` when it completed or stopped otherwise.
    private func submissions(_ body: () async throws -> Value) async -> [StepSubmission]? {
        do {
            _ = try await body()
            return nil
        } catch let interruption as StepInterruption {
            if case .submit(let steps) = interruption { return steps }
            return nil
        } catch {
            return nil
        }
    }

    @Test("every operation submits itself when new and returns its journaled result on replay")
    func operations() async throws {
        let request = CallRequest(method: "GET", url: "https://api.example.com", headers: [], body: nil, timeout: .zero, expectedStatuses: nil)
        let fresh = context([])
        let new: [(String, () async throws -> Value)] = [
            ("run", { try await fresh.run("a") { 1 } }),
            ("sleep", { try fresh.sleep("b", for: .zero) }),
            ("wait", { try fresh.waitForEvent("c", event: "go", timeout: .zero) }),
            ("notify", { try fresh.notify("d", event: "go", data: 1) }),
            ("invoke", { try fresh.invoke("e", workflow: "child", input: [:]) }),
            ("call", { try fresh.call("f", request) }),
        ]
        for (kind, operation) in new {
            let submitted = await submissions(operation)
            #expect(submitted?.count == 1, "\(kind) did not submit itself")
        }
        let replayed = context([
            JournalEntry(stepId: 1, stepName: "a", stepType: .run, out: 1),
            JournalEntry(stepId: 2, stepName: "c", stepType: .wait, out: ["received": true, "timed_out": false, "data": "x"]),
        ])
        #expect(try await replayed.run("a") { 99 } == 1, "a journaled step is not executed again")
        #expect(try replayed.waitForEvent("c", event: "go", timeout: .zero)["data"] == "x")
        #expect(replayed.input == ["n": 2])
    }

    @Test("a pending step blocks; a parallel group submits each branch's next step; cancel ends the run")
    func groupsAndCancel() async throws {
        let blocked = context([], pending: ["nap"])
        #expect(throws: StepInterruption.blocked) { try blocked.sleep("nap", for: .zero) }

        let group = context([JournalEntry(stepId: 1, stepName: "left.one", stepType: .run, out: 1)])
        let submitted = await submissions {
            .list(try await group.parallel([
                { _ = try await group.run("left.one") { 0 }; return try await group.run("left.two") { 2 } },
                { try await group.run("right.one") { 3 } },
            ]))
        }
        #expect(submitted?.map(\.stepName) == ["left.two", "right.one"])

        #expect(throws: StepInterruption.canceled(reason: "done", step: "stop")) { try context([]).cancel(reason: "done", step: "stop") }
    }
}
