/// What storing a node's `schedule` entries changes, decided from the entries stored before, so
/// that every store applies the same rules: which stored entries go, and what each new entry
/// carries over from the stored entry it continues.
public struct ScheduleReplacement: Sendable {
    /// The stored entries to delete, by workflow and position.
    public var deletions: [(workflow: String, position: Int)]
    /// The entries to write (insert or replace at their workflow and position).
    public var writes: [ScheduleRecord]

    /// Node `node`, serving the workflows `served`, stores `schedules` over `existing`. A stored
    /// entry of a served workflow goes when no new entry takes its position; one of a workflow not
    /// served goes only when this node wrote it (the workflow left its folder), so nodes with
    /// different folders (a rolling deploy) do not undo each other. A new entry continues the
    /// stored entry with its cron and zone, at its own position if it is there, else at another
    /// position of the workflow (an entry added above it moved it; input alike, if several
    /// match): it keeps that entry's next and last ticks, so a restart neither skips nor repeats
    /// a tick, and an entry never shows a tick another entry fired.
    public static func plan(_ schedules: [ScheduleRecord], over existing: [ScheduleRecord], served: Set<String>, node: String) -> ScheduleReplacement {
        let deletions = existing.filter { old in
            // An entry stored before entries named their node counts as this node's.
            served.contains(old.workflow)
                ? !schedules.contains { $0.workflow == old.workflow && $0.position == old.position } : (old.writtenBy ?? node) == node
        }.map { (workflow: $0.workflow, position: $0.position) }
        var unclaimed = existing.filter { served.contains($0.workflow) }
        var predecessors: [Int: ScheduleRecord] = [:]
        let passes: [(ScheduleRecord, ScheduleRecord) -> Bool] = [
            { new, old in old.position == new.position && sameTicks(new, old) },
            { new, old in sameTicks(new, old) && old.input == new.input },
            { new, old in sameTicks(new, old) },
        ]
        for continues in passes {
            for (index, schedule) in schedules.enumerated() where predecessors[index] == nil {
                guard let found = unclaimed.firstIndex(where: { $0.workflow == schedule.workflow && continues(schedule, $0) }) else { continue }
                predecessors[index] = unclaimed.remove(at: found)
            }
        }
        let writes = schedules.enumerated().map { index, schedule in
            var written = schedule
            if let old = predecessors[index] {
                written.nextFireAt = old.nextFireAt
                written.lastFireAt = old.lastFireAt
            } else {
                written.lastFireAt = nil
            }
            written.writtenBy = node
            return written
        }
        return ScheduleReplacement(deletions: deletions, writes: writes)
    }

    private static func sameTicks(_ new: ScheduleRecord, _ old: ScheduleRecord) -> Bool {
        new.cron == old.cron && new.timeZone == old.timeZone
    }
}
