import StepwiseExpressions

/// Schedule ticks: a compare-and-set on the tick and what it starts, in one transaction, so a
/// tick fires once whatever the number of nodes.
extension RunTransitions {
    /// Records that the YAML schedule fired its tick `expected` and moves it to `next`, starting
    /// `run` (idempotent by its id); false when another node already did.
    public func fireSchedule(_ schedule: ScheduleRecord, expected: TimestampValue, next: TimestampValue?, run: RunRecord?) throws -> Bool {
        guard try transaction.advanceSchedule(workflow: schedule.workflow, position: schedule.position, expected: expected, next: next) else {
            return false
        }
        if let run, try transaction.run(id: run.id) == nil { try startRun(run) }
        return true
    }

    /// Records that QStash schedule `id` fired its tick `expected` and moves it to `next`,
    /// applying `publication` (the tick's message); false when another node fired it first, or it
    /// was paused, changed or removed meanwhile.
    public func fireQueueSchedule(id: String, expected: TimestampValue, next: TimestampValue?, publication: Publication?, at time: TimestampValue)
        throws -> Bool
    {
        guard try transaction.advanceQueueSchedule(id: id, expected: expected, next: next) else { return false }
        guard let publication else { return true }
        if case .stored(let messageId) = try apply(publication, at: time) {
            try transaction.setLastMessageId(scheduleId: id, messageId: messageId)
        }
        return true
    }
}
