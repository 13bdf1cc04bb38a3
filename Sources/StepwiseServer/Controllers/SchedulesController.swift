import Foundation
import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// `/v2/schedules`: the cron schedules of the served workflows, and QStash's schedules API
/// (create or replace, read, list, delete, pause, resume; §10.2 of the protocol notes), through
/// which the Upstash SDKs and `stepwise runner` start workflows on a schedule.
struct SchedulesController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer
    /// The largest message body accepted (`ConnectionLimits.maximumMessageBytes`).
    let maximumMessageBytes: Int

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("v2/schedules") { _, _ in await schedules() }
        // Creation takes a whole URL after the prefix, so every route below it is a catch-all
        // (the router allows no named parameter beside one).
        router.post("v2/schedules/**") { request, context in await create(request, from: context.callerIp) }
        router.get("v2/schedules/**") { _, context in
            guard let id = Self.scheduleId(context) else { return Self.noSuchRoute }
            return await schedule(id)
        }
        router.delete("v2/schedules/**") { _, context in
            guard let id = Self.scheduleId(context) else { return Self.noSuchRoute }
            return await delete(id)
        }
        router.patch("v2/schedules/**") { _, context in
            let action = context.parameters.getCatchAll().last
            guard let action, ["pause", "resume"].contains(action), let id = Self.scheduleId(context, followedBy: 1) else {
                return Self.noSuchRoute
            }
            return await setPaused(id, action == "pause")
        }
    }

    /// The schedule id of `/v2/schedules/{id}` (followed by `more` segments): a workflow's entry
    /// `nightly/0` may come with its slash encoded or not (QStash's ids have none); `nil` when
    /// the path names no id.
    private static func scheduleId(_ context: StepwiseRequestContext, followedBy more: Int = 0) -> String? {
        let parts = context.parameters.getCatchAll().dropLast(more)
        let id = parts.map { $0.removingPercentEncoding ?? String($0) }.joined(separator: "/")
        return id.isEmpty ? nil : id
    }

    private static let noSuchRoute = JSONResponse.error(.notFound, "no such route; schedules are read, deleted, paused and resumed at /v2/schedules/{id}[/pause|/resume]")

    /// The workflows' schedules, then the QStash ones.
    private func schedules() async -> Response {
        do {
            let workflows = try await engine.store.schedules().map(Self.view)
            let queued = try await engine.store.queueSchedules()
            let states = try await lastStates(of: queued)
            return JSONResponse.make(.ok, .list(workflows + queued.map { Self.view($0, lastStates: states) }))
        } catch {
            return failures.answer("cannot list schedules", error)
        }
    }

    /// The state of each schedule's last tick's message, by message id, as QStash names it
    /// (`IN_PROGRESS`, `SUCCESS`, `FAIL`; a message canceled before its delivery failed), from
    /// the message log while it keeps them: one read for all.
    private func lastStates(of schedules: [QueueSchedule]) async throws -> [String: String] {
        let latest = try await engine.store.latestMessageStates(ids: schedules.compactMap(\.lastMessageId))
        return latest.mapValues { state in
            switch state {
            case .delivered: "SUCCESS"
            case .failed, .canceled: "FAIL"
            case .created, .error, .retry: "IN_PROGRESS"
            }
        }
    }

    private func create(_ request: Request, from callerIp: String?) async -> Response {
        let body: [UInt8]
        switch await RequestBody.bytes(request, upTo: maximumMessageBytes) {
        case .failure(let refusal): return refusal.response
        case .success(let bytes): body = bytes
        }
        let schedule: QueueSchedule
        do {
            var parsed = try ScheduleRequest(target: request.uri.string, headers: request.headerFields, body: body)
            parsed.message.callerIp = callerIp
            schedule = try await engine.createSchedule(parsed)
        } catch let error as ProtocolError {
            return JSONResponse.error(.badRequest, error.message)
        } catch {
            return failures.answer("the schedule could not be stored", error)
        }
        return JSONResponse.make(.ok, ["scheduleId": .string(schedule.id)])
    }

    private func schedule(_ id: String) async -> Response {
        do {
            if let schedule = try await engine.store.queueSchedules().first(where: { $0.id == id }) {
                return JSONResponse.make(.ok, Self.view(schedule, lastStates: try await lastStates(of: [schedule])))
            }
            guard let workflows = try await workflowSchedule(id) else { return Self.noSchedule(id) }
            return JSONResponse.make(.ok, Self.view(workflows))
        } catch {
            return failures.answer("cannot read the schedule", error)
        }
    }

    private func delete(_ id: String) async -> Response {
        do {
            guard try await engine.store.deleteQueueSchedule(id: id) else { return try await refusal(of: id) }
            return JSONResponse.make(.ok, ["deleted": .string(id)])
        } catch {
            return failures.answer("cannot delete the schedule", error)
        }
    }

    private func setPaused(_ id: String, _ paused: Bool) async -> Response {
        do {
            guard try await engine.setSchedule(id: id, paused: paused) else { return try await refusal(of: id) }
            return JSONResponse.make(.ok, ["scheduleId": .string(id), "isPaused": .bool(paused)])
        } catch {
            return failures.answer("cannot change the schedule", error)
        }
    }

    /// The served workflow's `schedule` entry `id` names (`workflow/position`), if any.
    private func workflowSchedule(_ id: String) async throws -> ScheduleRecord? {
        try await engine.store.schedules().first { Self.id(of: $0) == id }
    }

    /// Why schedule `id` cannot be changed: a workflow's entry changes only with its file (409);
    /// any other is unknown (404).
    private func refusal(of id: String) async throws -> Response {
        guard let schedule = try await workflowSchedule(id) else { return Self.noSchedule(id) }
        return JSONResponse.error(
            .conflict, "schedule '\(id)' is entry \(schedule.position + 1) of workflow \(schedule.workflow)'s schedule: it changes with the workflow's file")
    }

    private static func noSchedule(_ id: String) -> Response {
        JSONResponse.error(.notFound, "no schedule '\(id)'")
    }

    /// The id of a workflow's `schedule` entry: the workflow's name and the entry's position.
    private static func id(of schedule: ScheduleRecord) -> String {
        "\(schedule.workflow)/\(schedule.position)"
    }

    /// A workflow's `schedule` entry, with the fields QStash clients require of a schedule, in
    /// QStash's forms (times in unix ms, the zone in the cron as `CRON_TZ=`), and `nextFire` and
    /// `lastFire` as RFC 3339 text for people. Its creation time is not kept: `createdAt` is 0.
    private static func view(_ schedule: ScheduleRecord) -> Value {
        let cron = schedule.timeZone.map { "CRON_TZ=\($0) \(schedule.cron)" } ?? schedule.cron
        return [
            "scheduleId": .string(id(of: schedule)), "workflow": .string(schedule.workflow),
            "target": .string(schedule.workflow), "destination": .string("/workflows/\(schedule.workflow)"), "method": "POST", "retries": 0,
            "createdAt": 0, "isPaused": false, "cron": .string(cron), "timezone": schedule.timeZone.map(Value.string) ?? "UTC",
            "input": schedule.input, "nextScheduleTime": schedule.nextFireAt.map { .int($0.millisecondsSinceEpoch) } ?? .null,
            "lastScheduleTime": schedule.lastFireAt.map { .int($0.millisecondsSinceEpoch) } ?? .null,
            "nextFire": schedule.nextFireAt.map { .string($0.description) } ?? .null, "lastFire": schedule.lastFireAt.map { .string($0.description) } ?? .null,
        ]
    }

    /// The headers and body of the schedule's message as the API shows them
    /// (`QueuedMessage.shown`): credentials meant for the destination are kept to be delivered,
    /// never shown, and what its `Upstash-Redact-Fields` names shows as a digest. The stored
    /// message, not a tick's (which adds its `Upstash-Schedule-Id`).
    private static func shown(_ schedule: QueueSchedule) -> (headers: Value, body: [UInt8]?) {
        // Read from the stored headers as they are, so that a schedule stored under laxer rules
        // still shows what it delivers.
        let prefix = "upstash-forward-"
        let forwarded = schedule.headers.compactMap { header in
            header.name.lowercased().hasPrefix(prefix) ? ForwardedHeader(String(header.name.dropFirst(prefix.count)), header.value) : nil
        }
        func value(_ name: String) -> String? { schedule.headers.first { $0.name.lowercased() == name }?.value }
        let message = QueuedMessage(
            role: .plain, runId: nil, destination: schedule.destination, headers: forwarded, contentType: value("content-type"), body: schedule.body,
            redaction: value("upstash-redact-fields").flatMap { try? MessageRedaction(parsing: $0) }, dueAt: .epoch
        ).shown
        return (QStashMessageView.headers(of: message), message.body)
    }

    /// The headers a callback of the schedule's ticks is sent with, as QStash shows them.
    private static func headers(_ target: MessageTarget) -> Value {
        QStashMessageView.headers(target.options.forwardedHeaders.map { ForwardedHeader($0.name, $0.value) })
    }

    /// A QStash schedule in QStash's shape (times in unix milliseconds, delays and periods in
    /// seconds), plus the columns of `stepwise schedules`; `lastStates` holds the state of its last
    /// tick's message, when known.
    private static func view(_ schedule: QueueSchedule, lastStates: [String: String]) -> Value {
        let message = try? schedule.tickMessage()
        let options = message?.options
        let flow = options?.flowControl
        let (headers, body) = shown(schedule)
        let (bodyName, bodyValue) = body.map { QStashMessageView.body($0, text: "body", base64: "bodyBase64") } ?? ("body", nil)
        let lastState = schedule.lastMessageId.flatMap { id in lastStates[id].map { Value.map(ValueMap([(id, .string($0))])) } }
        let fields: [(String, Value?)] = [
            ("scheduleId", .string(schedule.id)), ("destination", .string(schedule.destination)), ("target", .string(schedule.destination)),
            ("cron", .string(schedule.cronHeader)), ("timezone", .string(schedule.timeZone ?? "UTC")),
            ("createdAt", .int(schedule.createdAt.millisecondsSinceEpoch)), ("method", .string(options?.method ?? "POST")),
            ("header", headers),
            ("retries", .int(Int64(options?.retries ?? QueuedMessage.defaultRetries))), ("isPaused", .bool(schedule.paused)),
            (bodyName, bodyValue),
            ("delay", options?.delay.map { .int($0.milliseconds / 1_000) }), ("timeout", options?.timeout.map { .int($0.milliseconds / 1_000) }),
            ("callback", message?.callback.map { .string($0.url) }),
            ("callbackHeader", message?.callback.map(Self.headers)),
            ("failureCallback", message?.failureCallback.map { .string($0.url) }),
            ("failureCallbackHeader", message?.failureCallback.map(Self.headers)),
            ("queueName", message?.queue.map(Value.string)),
            ("label", options?.label.map(Value.string)), ("labels", options?.label.map(QStashMessageView.labels)),
            ("retryDelayExpression", options?.retryDelay.map { .string($0.text) }),
            ("flowControlKey", flow.map { .string($0.key) }),
            ("parallelism", flow?.parallelism.map { .int(Int64($0)) }), ("rate", flow?.rate.map { .int(Int64($0)) }),
            ("period", flow?.period.map { .int($0.milliseconds / 1_000) }),
            ("nextScheduleTime", schedule.nextFireAt.map { .int($0.millisecondsSinceEpoch) }),
            ("lastScheduleTime", schedule.lastFireAt.map { .int($0.millisecondsSinceEpoch) }), ("lastScheduleStates", lastState),
            ("lastMessageId", schedule.lastMessageId.map(Value.string)), ("nextFire", schedule.nextFireAt.map { .string($0.description) }),
            ("lastFire", schedule.lastFireAt.map { .string($0.description) }),
        ]
        return .map(ValueMap(fields.compactMap { name, value in value.map { (name, $0) } } + QStashMessageView.callerFields(schedule.callerIp)))
    }
}
