import StepwiseEngine
import StepwiseExpressions
import Testing

/// What storing a node's schedule entries keeps of the entries stored before (`ScheduleReplacement`,
/// applied alike by SQLite and PostgreSQL).
@Suite("Schedule entries across a change of the folder")
struct ScheduleReplacementTests {
    private func at(_ minute: Int64) -> TimestampValue { TimestampValue(millisecondsSinceEpoch: 1_800_000_000_000 + minute * 60_000) ?? .epoch }

    private func entry(_ position: Int, _ cron: String, next: Int64, last: Int64? = nil, input: Value = [:], workflow: String = "report", by node: String? = "a")
        -> ScheduleRecord
    {
        ScheduleRecord(
            workflow: workflow, position: position, cron: cron, timeZone: nil, input: input, nextFireAt: at(next), lastFireAt: last.map(at), writtenBy: node)
    }

    @Test("an entry added above an existing one: the existing one keeps its missed tick and its last fire at its new position; the new one has no last fire")
    func anEntryAddedAbove() {
        let stored = [entry(0, "* * * * *", next: 5, last: 4)]
        let plan = ScheduleReplacement.plan(
            [entry(0, "0 3 * * *", next: 100), entry(1, "* * * * *", next: 50)], over: stored, served: ["report"], node: "a")
        #expect(plan.writes == [entry(0, "0 3 * * *", next: 100), entry(1, "* * * * *", next: 5, last: 4)])
        #expect(plan.deletions.isEmpty, "position 0 is written again")
    }

    @Test("an entry in place keeps its ticks when only its input changed; a new cron at a position starts afresh; a position gone is deleted")
    func entriesInPlace() {
        let stored = [entry(0, "* * * * *", next: 5, last: 4), entry(1, "0 * * * *", next: 60, last: 0), entry(2, "0 0 * * *", next: 600)]
        let plan = ScheduleReplacement.plan(
            [entry(0, "* * * * *", next: 9, input: ["days": 2]), entry(1, "30 * * * *", next: 30)], over: stored, served: ["report"], node: "a")
        #expect(plan.writes == [entry(0, "* * * * *", next: 5, last: 4, input: ["days": 2]), entry(1, "30 * * * *", next: 30)])
        #expect(plan.deletions.map(\.position) == [2])
    }

    @Test("two entries of one cron that swapped inputs: each position keeps its own ticks (an input changed alone keeps an entry in place)")
    func swappedEntries() {
        let stored = [entry(0, "0 2 * * *", next: 10, last: 1, input: ["days": 1]), entry(1, "0 2 * * *", next: 20, last: 2, input: ["days": 30])]
        let plan = ScheduleReplacement.plan(
            [entry(0, "0 2 * * *", next: 99, input: ["days": 30]), entry(1, "0 2 * * *", next: 99, input: ["days": 1])],
            over: stored, served: ["report"], node: "a")
        #expect(plan.writes.map(\.nextFireAt) == [at(10), at(20)], "the same cron at the same position keeps that position's tick")
    }

    @Test("a workflow this node does not serve: its own entries go (the workflow left its folder), another node's stay")
    func entriesOfWorkflowsNotServed() {
        let stored = [entry(0, "* * * * *", next: 5, workflow: "gone", by: "a"), entry(0, "* * * * *", next: 5, workflow: "theirs", by: "b")]
        let plan = ScheduleReplacement.plan([], over: stored, served: ["report"], node: "a")
        #expect(plan.deletions.map(\.workflow) == ["gone"])
        #expect(plan.writes.isEmpty)
    }
}
