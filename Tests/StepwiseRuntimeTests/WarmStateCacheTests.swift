import Foundation
import Testing
import StepwiseExpressions
import StepwiseTesting
@testable import StepwiseRuntime

/// The warm cache's bounds, in isolation (against a plain reference model) and through the runner,
/// where a run whose state was evicted or refused must still finish as a cold replay would.
@Suite("Warm state cache")
struct WarmStateCacheTests {
    @Test("evicts the least recently stored run first")
    func leastRecentlyStoredGoesFirst() {
        var cache = WarmStateCache<String>(capacity: 10, byteBudget: 300)
        for runId in ["a", "b", "c"] { cache.store(runId, journalCount: 1, bytes: 100, for: runId) }
        cache.store("a again", journalCount: 2, bytes: 100, for: "a")
        cache.store("d", journalCount: 1, bytes: 100, for: "d")
        #expect(cache.entry(for: "b") == nil)
        #expect(cache.entry(for: "a")?.state == "a again")
        #expect(cache.entry(for: "c") != nil && cache.entry(for: "d") != nil)
        #expect(cache.totalBytes == 300)
        cache.store("e", journalCount: 1, bytes: 250, for: "e")
        #expect(cache.entry(for: "c") == nil && cache.entry(for: "a") == nil && cache.entry(for: "d") == nil)
        #expect(cache.count == 1 && cache.totalBytes == 250)
    }

    @Test("refuses a state larger than the budget and drops the run's older state")
    func refusesOversizedState() {
        var cache = WarmStateCache<String>(capacity: 10, byteBudget: 300)
        let kept = [
            cache.store("small", journalCount: 1, bytes: 100, for: "a"), cache.store("other", journalCount: 1, bytes: 100, for: "b"),
            cache.store("huge", journalCount: 2, bytes: 301, for: "a"),
        ]
        #expect(kept == [true, true, false])
        #expect(cache.entry(for: "a") == nil)
        #expect(cache.entry(for: "b") != nil)
        #expect(cache.totalBytes == 100)
    }

    @Test("keeps no more runs than its capacity, and none at capacity 0")
    func countBound() {
        var cache = WarmStateCache<Int>(capacity: 2, byteBudget: 1_000)
        for index in 0..<5 { cache.store(index, journalCount: 1, bytes: 1, for: "run-\(index)") }
        #expect(cache.count == 2)
        #expect(cache.entry(for: "run-3") != nil && cache.entry(for: "run-4") != nil)
        var disabled = WarmStateCache<Int>(capacity: 0, byteBudget: 1_000)
        let kept = disabled.store(1, journalCount: 1, bytes: 1, for: "run")
        #expect(!kept)
        #expect(disabled.count == 0)
    }

    @Test("never holds more than its budget and agrees with a simple LRU model over many operations")
    func agreesWithModel() {
        let budget = 10_000
        var cache = WarmStateCache<Int>(capacity: 40, byteBudget: budget)
        // The model: (run id, bytes) from least to most recently stored.
        var model: [(runId: String, bytes: Int)] = []
        var random = SeededGenerator(seed: 7)
        for operation in 0..<20_000 {
            let runId = "run-\(random.next() % 120)"
            if random.next() % 10 == 0 {
                cache.remove(runId)
                model.removeAll { $0.runId == runId }
            } else {
                // Mostly small states, now and then one near or over the whole budget.
                let bytes = random.next() % 20 == 0 ? Int(random.next() % 12_000) : Int(random.next() % 900)
                cache.store(operation, journalCount: operation, bytes: bytes, for: runId)
                model.removeAll { $0.runId == runId }
                if bytes <= budget {
                    model.append((runId, bytes))
                    while model.count > 40 || model.reduce(0, { $0 + $1.bytes }) > budget { model.removeFirst() }
                }
            }
            #expect(cache.totalBytes <= budget)
            #expect(cache.count == model.count)
            #expect(cache.totalBytes == model.reduce(0) { $0 + $1.bytes })
        }
        for (runId, bytes) in model { #expect(cache.entry(for: runId)?.bytes == bytes) }
    }

    // MARK: Through the runner

    static let parkingWorkflow = """
        workflow: test
        steps:
          - id: count
            set:
              n: ${{ size(input.items) }}
          - id: pause
            sleep: 1h
          - id: fanout
            parallel:
              left:
                - id: first
                  set:
                    name: ${{ input.items[0].name }}
              right:
                - id: last
                  set:
                    name: ${{ input.items[size(input.items) - 1].name }}
          - id: again
            sleep: 1h
        output: "${{ {'n': steps.count.n, 'first': steps.first.name, 'last': steps.last.name, 'label': input.label} }}"
        """

    /// An input of `count` small objects, like a big order list.
    static func bigInput(label: String, count: Int = 300) -> Value {
        let items: [Value] = (0..<count).map { index in
            ["id": .int(Int64(index)), "name": .string("item number \(index) of \(label)"), "tags": ["red", "large"]]
        }
        return ["label": .string(label), "items": .list(items)]
    }

    /// The estimated size of one parked run's state, as the runner weighs it.
    static func parkedStateBytes() async throws -> Int {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make(parkingWorkflow, transport: ScriptedTransport([:]), warm: true, clock: clock)
        var run = driver.start(input: bigInput(label: "probe"), clock: clock, runId: "probe")
        _ = await run.deliverOnce()
        return driver.runner.warmBytes
    }

    /// Drives runs `labels` round-robin, one delivery each per round, on one runner; returns their finishes.
    static func interleaved(_ labels: [String], driver: RunDriver, clock: VirtualClock, afterEachDelivery: (WorkflowRunner) async -> Void) async -> [Value?] {
        var runs = labels.map { driver.start(input: bigInput(label: $0), clock: clock, runId: $0) }
        var finishes: [RunDriver.Finish?] = Array(repeating: nil, count: runs.count)
        for _ in 0..<20 where finishes.contains(where: { $0 == nil }) {
            for index in runs.indices where finishes[index] == nil {
                finishes[index] = await runs[index].deliverOnce()
                await afterEachDelivery(driver.runner)
            }
        }
        #expect(finishes.allSatisfy { $0?.status == "succeeded" })
        return finishes.map { $0?.output }
    }

    /// The output a cold runner gives for the run labelled `label`.
    static func coldOutput(_ label: String) async throws -> Value? {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make(parkingWorkflow, transport: ScriptedTransport([:]), warm: false, clock: clock)
        return await driver.run(input: bigInput(label: label), clock: clock).output
    }

    @Test("runs interleaved on a runner whose budget holds two states finish as cold replays do, within the budget")
    func evictedRunsReplayCold() async throws {
        let stateBytes = try await Self.parkedStateBytes()
        #expect(stateBytes > 50_000, "a parked run with a 300-item input should weigh more than its JSON")
        let budget = stateBytes * 5 / 2
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make(
            Self.parkingWorkflow, transport: ScriptedTransport([:]), warm: true, clock: clock, warmByteBudget: budget)
        let labels = ["a", "b", "c", "d"]
        var mostRuns = 0
        let outputs = await Self.interleaved(labels, driver: driver, clock: clock) { runner in
            #expect(runner.warmBytes <= budget)
            mostRuns = max(mostRuns, runner.warmRunCount)
        }
        #expect(mostRuns == 2, "the budget holds two parked states, never more")
        for (label, output) in zip(labels, outputs) {
            #expect(output == (try await Self.coldOutput(label)))
            #expect(output?["last"] == .string("item number 299 of \(label)"))
        }
        #expect(driver.runner.warmRunCount == 0, "finished runs are forgotten")
    }

    @Test("a runner whose budget is smaller than one state keeps nothing and still finishes the run")
    func oversizedStateIsNotKept() async throws {
        let stateBytes = try await Self.parkedStateBytes()
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make(
            Self.parkingWorkflow, transport: ScriptedTransport([:]), warm: true, clock: clock, warmByteBudget: stateBytes / 2)
        let outputs = await Self.interleaved(["solo"], driver: driver, clock: clock) { runner in
            #expect(runner.warmRunCount == 0)
            #expect(runner.warmBytes == 0)
        }
        #expect(outputs == [try await Self.coldOutput("solo")])
    }

    @Test("the estimate follows the decoded input's size")
    func estimateGrowsWithInput() {
        let small = Self.bigInput(label: "x", count: 10).estimatedRetainedBytes
        let large = Self.bigInput(label: "x", count: 1_000).estimatedRetainedBytes
        #expect(large > 90 * small && large < 110 * small)
        let text = Self.bigInput(label: "x", count: 1_000).jsonText()
        #expect(large > text.utf8.count, "a decoded value takes more memory than its JSON text")
    }
}
