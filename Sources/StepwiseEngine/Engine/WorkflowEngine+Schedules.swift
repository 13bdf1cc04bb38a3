import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// Cron schedules: each tick starts one run, exactly once even across restarts and nodes (the
/// run's id is derived from the tick, and firing is a compare-and-set on the next fire time).
///
/// Missed ticks: when the engine was down over several ticks, only the most recent missed tick
/// fires when it comes back (a run that was due is not lost; a backlog is not replayed).
extension WorkflowEngine {
    /// The schedules of the served workflows, with their next fire times from now.
    func scheduleRecords() -> [ScheduleRecord] {
        let now = clock()
        return current.values.sorted { $0.name < $1.name }.flatMap { definition in
            definition.workflow.schedules.enumerated().map { position, schedule in
                let input = (try? schedule.input?.constantValue()) ?? [:]
                return ScheduleRecord(
                    workflow: definition.name, position: position, cron: schedule.cron.value.description, timeZone: schedule.timeZone?.value,
                    input: input, nextFireAt: try? schedule.cron.value.nextFireTime(after: now, in: schedule.timeZone?.value))
            }
        }
    }

    /// Starts the runs of every schedule whose tick has come. The store is read only when the
    /// earliest known tick has come (not on every turn of the delivery loop); another node that
    /// fired a tick first only makes that read find nothing to do.
    func fireDueSchedules() async throws {
        let now = clock()
        if case .known(let due) = scheduleDue, now < scheduleDueReadAt.movedForward(by: configuration.maximumIdle), due.map({ $0 > now }) ?? true {
            return
        }
        let changes = scheduleChanges
        var earliest: TimestampValue?
        // Entries of workflows this node does not serve are left to a node that does.
        for schedule in try await store.schedules() where current[schedule.workflow] != nil {
            guard let tick = schedule.nextFireAt, tick <= now else {
                earliest = [earliest, schedule.nextFireAt].compactMap { $0 }.min()
                continue
            }
            guard let cron = try? CronExpression(parsing: schedule.cron) else { continue }
            let (fired, next) = latestTick(cron, from: tick, zone: schedule.timeZone, now: now)
            let runId = RunIdentifier.scheduleTick(
                workflow: schedule.workflow, position: schedule.position, secondsSinceEpoch: fired.secondsSinceEpoch)
            var run: RunRecord?
            do {
                run = try newRun(of: schedule.workflow, input: schedule.input, id: runId, parent: nil)
            } catch {
                logger.error("schedule \(schedule.position) of \(schedule.workflow) cannot start a run: \(error)")
            }
            switch try await store.fireSchedule(schedule, expected: tick, next: next, run: run, skipsOverlaps: skipsOverlaps(schedule)) {
            case .started: wake.signal()
            case .skipped(let running):
                logger.info("schedule \(schedule.position) of \(schedule.workflow) skipped its tick at \(fired): \(running) is still running (overlap: skip)")
            case .taken: break
            }
            earliest = [earliest, next].compactMap { $0 }.min()
        }
        let due = [earliest, try await fireDueQueueSchedules(now: now)].compactMap { $0 }.min()
        // A schedule created or changed while this read ran is read again on the next turn.
        guard changes == scheduleChanges else { return }
        scheduleDue = .known(due)
        scheduleDueReadAt = now
    }

    /// Whether the served entry behind `schedule` (same position, same cron and zone) skips its
    /// ticks while one of its runs is still running.
    private func skipsOverlaps(_ schedule: ScheduleRecord) -> Bool {
        guard let entries = current[schedule.workflow]?.workflow.schedules, entries.indices.contains(schedule.position) else { return false }
        let entry = entries[schedule.position]
        return entry.overlap == .skip && entry.cron.value.description == schedule.cron && entry.timeZone?.value == schedule.timeZone
    }

    /// Something changed the schedules: the next turn reads them.
    func schedulesChanged() {
        scheduleChanges += 1
        scheduleDue = .unknown
        wake.signal()
    }

    /// The most recent tick at or before `now`, starting from the due tick `first`, and the tick
    /// after it.
    func latestTick(_ cron: CronExpression, from first: TimestampValue, zone: String?, now: TimestampValue) -> (fired: TimestampValue, next: TimestampValue?) {
        var fired = first
        var next = try? cron.nextFireTime(after: first, in: zone)
        // Bounded: a minutely schedule down for a week has ~10,000 missed ticks.
        var steps = 0
        while let candidate = next, candidate <= now, steps < 100_000 {
            fired = candidate
            next = try? cron.nextFireTime(after: candidate, in: zone)
            steps += 1
        }
        return (fired, next)
    }
}
