import Foundation
import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol

/// QStash schedules (`/v2/schedules`): a message published on every tick of a cron expression,
/// how the Upstash SDKs and `stepwise runner` start workflows on a schedule (§10.2). Ticks follow
/// the policy of YAML schedules: exactly once across nodes and restarts (a compare-and-set on the
/// next fire time in the transaction that queues the tick's message), and after downtime only
/// the most recent missed tick fires.
extension WorkflowEngine {
    /// Creates the schedule `request` describes, or replaces the one with its id; the schedule
    /// stored. A cron expression, zone or message header that cannot work is an error naming it.
    public func createSchedule(_ request: ScheduleRequest) async throws -> QueueSchedule {
        let now = clock()
        let next = try Self.nextTick(cron: request.cron, zone: request.timeZone, after: now)
        try NewMessageRules.check(request.message, at: now)
        for message in try await tickMessages(request.message) { _ = try PublicationPlanner(now: now).plan(message) }
        let schedule = QueueSchedule(
            id: request.scheduleId ?? RunIdentifier.fresh(prefix: "scd_"),
            destination: request.message.destination, cron: request.cron, timeZone: request.timeZone,
            headers: request.messageHeaders.fields.map { ForwardedHeader($0.name, $0.value) }, body: request.message.body, createdAt: now,
            nextFireAt: next, callerIp: request.message.callerIp)
        try await store.saveQueueSchedule(schedule)
        schedulesChanged()
        return try await store.queueSchedules().first { $0.id == schedule.id } ?? schedule
    }

    /// Pauses schedule `id` (its ticks are skipped) or resumes it from the next tick after now;
    /// false when there is no such schedule.
    public func setSchedule(id: String, paused: Bool) async throws -> Bool {
        var next: TimestampValue?
        if !paused, let schedule = try await store.queueSchedules().first(where: { $0.id == id }) {
            next = try? Self.nextTick(cron: schedule.cron, zone: schedule.timeZone, after: clock())
        }
        let found = try await store.setQueueSchedulePaused(id: id, paused: paused, next: next)
        schedulesChanged()
        return found
    }

    /// Publishes the message of every QStash schedule whose tick has come; the earliest tick
    /// still to come.
    func fireDueQueueSchedules(now: TimestampValue) async throws -> TimestampValue? {
        var earliest: TimestampValue?
        for schedule in try await store.queueSchedules() where !schedule.paused {
            guard let tick = schedule.nextFireAt, tick <= now else {
                earliest = [earliest, schedule.nextFireAt].compactMap { $0 }.min()
                continue
            }
            guard let cron = try? CronExpression(parsing: schedule.cron) else { continue }
            let next = latestTick(cron, from: tick, zone: schedule.timeZone, now: now).next
            let publications = try await tickPublications(of: schedule, at: now)
            if try await store.fireQueueSchedule(id: schedule.id, expected: tick, next: next, publications: publications, at: now),
                !publications.isEmpty
            {
                queueChanged()
            }
            earliest = [earliest, next].compactMap { $0 }.min()
        }
        return earliest
    }

    /// What a tick of `schedule` publishes: its message, or a copy for each endpoint of the URL
    /// group it names as they are now; none, with the reason logged, when that cannot be (the
    /// group was deleted since, say): the tick is skipped, the schedule goes on.
    private func tickPublications(of schedule: QueueSchedule, at now: TimestampValue) async throws -> [Publication] {
        do {
            let planner = PublicationPlanner(now: now)
            return try await tickMessages(try schedule.tickMessage()).map { try planner.plan($0).queued(bySchedule: schedule.id) }
        } catch let error as ProtocolError {
            logger.error("schedule \(schedule.id) cannot publish its message: \(error.message)")
            return []
        }
    }

    /// The messages a tick of a schedule of `message` publishes: `message`, or a copy for each
    /// endpoint of the URL group it names; an error says why there are none.
    private func tickMessages(_ message: PublishedMessage) async throws -> [PublishedMessage] {
        switch try await expandingURLGroups([message]) {
        case .success(let expanded): return Array(expanded.joined())
        case .failure(.unknownURLGroup(let name)):
            throw ProtocolError("there is no URL group named '\(name)'; add endpoints with POST /v2/topics/\(name)/endpoints")
        case .failure(.invalid(let error)): throw error
        case .failure(let refusal): throw ProtocolError("the message cannot be published: \(refusal)")
        }
    }

    /// The first tick of `cron` in `zone` after `instant`; an error naming what is wrong with
    /// the expression or the zone, or saying that it never fires.
    static func nextTick(cron: String, zone: String?, after instant: TimestampValue) throws(ProtocolError) -> TimestampValue {
        if let zone, !CronExpression.isValidTimeZone(zone) {
            throw ProtocolError("header 'Upstash-Cron': CRON_TZ=\(zone) is not an IANA time zone such as 'Europe/Berlin' or 'UTC'")
        }
        do throws(CronSyntaxError) {
            let expression = try CronExpression(parsing: cron)
            guard let next = try expression.nextFireTime(after: instant, in: zone) else {
                throw CronSyntaxError("'\(cron)' never fires in the next five years", offset: 0)
            }
            return next
        } catch {
            // The column counts within the five fields, which follow any CRON_TZ= prefix.
            throw ProtocolError("header 'Upstash-Cron', fields '\(cron)': \(error.description)")
        }
    }
}
