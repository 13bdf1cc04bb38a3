import Hummingbird
import StepwiseEngine
import StepwiseExpressions

/// `GET /v2/schedules`: the cron schedules of the served workflows and their next ticks.
struct SchedulesController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<BasicRequestContext>) {
        router.get("v2/schedules") { _, _ in await schedules() }
    }

    private func schedules() async -> Response {
        do {
            let schedules = try await engine.store.schedules()
            return JSONResponse.make(.ok, .list(schedules.map { schedule in
                [
                    "scheduleId": .string("\(schedule.workflow)/\(schedule.position)"), "workflow": .string(schedule.workflow),
                    "cron": .string(schedule.cron), "timezone": schedule.timeZone.map(Value.string) ?? "UTC", "input": schedule.input,
                    "nextScheduleTime": schedule.nextFireAt.map { .string($0.description) } ?? .null,
                    "lastScheduleTime": schedule.lastFireAt.map { .string($0.description) } ?? .null,
                ]
            }))
        } catch {
            return failures.answer("cannot list schedules", error)
        }
    }
}
