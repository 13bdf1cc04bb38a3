import StepwiseExpressions

/// Schedule ticks: a compare-and-set on the tick and what it starts, in one transaction, so a
/// tick fires once whatever the number of nodes.
extension RunTransitions {
    /// Records that the YAML schedule fired its tick `expected` and moves it to `next`, starting
    /// `run` (idempotent by its id) unless the entry skips overlaps and one of its runs is still
    /// running; `.taken` when another node fired the tick first.
    public func fireSchedule(_ schedule: ScheduleRecord, expected: TimestampValue, next: TimestampValue?, run: RunRecord?, skipsOverlaps: Bool)
        throws -> ScheduleFiring
    {
        guard try transaction.advanceSchedule(workflow: schedule.workflow, position: schedule.position, expected: expected, next: next) else {
            return .taken
        }
        guard let run else { return .started }
        if skipsOverlaps, let running = try transaction.runningRun(workflow: schedule.workflow, idPrefix: RunIdentifier.scheduleTickPrefix(
            workflow: schedule.workflow, position: schedule.position))
        {
            return .skipped(stillRunning: running)
        }
        if try transaction.run(id: run.id) == nil { try startRun(run) }
        return .started
    }

    /// Records that QStash schedule `id` fired its tick `expected` and moves it to `next`,
    /// applying `publications` (the tick's message, one per endpoint of a URL group; the last one
    /// stored is the schedule's last message); false when another node fired it first, or it was
    /// paused, changed or removed meanwhile.
    public func fireQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?, publications: [Publication], at time: TimestampValue)
        throws -> Bool
    {
        guard try transaction.advanceQueueSchedule(id: id, expected: expected, next: next) else { return false }
        for publication in publications {
            if case .stored(let messageId) = try apply(publication, at: time) {
                try transaction.setLastMessageId(scheduleId: id, messageId: messageId)
            }
        }
        return true
    }
}
