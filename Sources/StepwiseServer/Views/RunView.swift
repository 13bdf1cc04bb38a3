import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// How runs appear in Stepwise's read API (`GET /api/runs/{id}`).
enum RunView {
    /// A run without its steps, for listings.
    static func summary(_ run: RunRecord) -> Value {
        var map = ValueMap([
            ("workflowRunId", .string(run.id)), ("workflow", .string(run.workflow)), ("status", .string(run.status.rawValue)),
            ("createdAt", .string(run.createdAt.description)), ("updatedAt", .string(run.updatedAt.description)),
        ])
        map[.string("output")] = RunBodyRedaction.shown(run.output ?? .null, of: run)
        map[.string("error")] = run.error?.value ?? .null
        if let label = run.label { map[.string("label")] = .string(label) }
        return .map(map)
    }

    /// A run with its steps, the steps the engine is completing (`waiting`: sleeps, waits,
    /// calls, child runs, retries), the events its waits wait for (`waits`) and every delivery
    /// attempt. The steps of an SDK run (or of a run of `stepwise runner`) are its log's step entries.
    static func detail(_ run: RunRecord, progress: RunProgress, log: [RawStep], attempts: [AttemptRecord], waits: [PendingWait]) -> Value {
        guard case .map(var map) = summary(run) else { return summary(run) }
        map[.string("definition")] = .string(run.definitionHash)
        map[.string("input")] = RunBodyRedaction.shown(run.input, of: run)
        if let parent = run.parent { map[.string("parent")] = ["workflowRunId": .string(parent.runId), "step": .string(parent.step)] }
        map[.string("steps")] = .list(run.endpoint == nil ? progress.journal.dropFirst().map(step) : log.dropFirst().compactMap { step($0).map { RunBodyRedaction.shown(out: $0, of: run) } })
        map[.string("waiting")] = .list(progress.pending.sorted().map(Value.string))
        map[.string("waits")] = .list(waits.map { wait in
            ["step": .string(wait.step), "event": .string(wait.event), "timeoutAt": .string(wait.timeoutAt.description)]
        })
        map[.string("attempts")] = .list(attempts.map(attempt))
        return .map(map)
    }

    /// One journal entry, its `out` as a value (not Upstash's JSON text).
    static func step(_ entry: JournalEntry) -> Value {
        var map = ValueMap([
            ("stepId", .int(Int64(entry.stepId))), ("stepName", .string(entry.stepName)), ("stepType", .string(entry.stepType.rawValue)),
        ])
        map[.string("out")] = entry.out ?? .null
        if let error = entry.error { map[.string("error")] = error.value }
        return .map(map)
    }

    /// One result step of a log (not a plan, not a call's request or callback), its `out` decoded
    /// for its type; `nil` for anything else.
    static func step(_ raw: RawStep) -> Value? {
        guard raw.callType == .step, let step = try? raw.step(), !step.isPlan else { return nil }
        var map = ValueMap([("stepId", .int(step.stepId)), ("stepName", .string(step.stepName)), ("stepType", .string(step.stepType))])
        map[.string("out")] = (try? step.output()).flatMap { $0.map(value) } ?? written(step.object[.string("out")])
        if let error = step.object[.string("error")] { map[.string("error")] = error }
        return .map(map)
    }

    /// An `out` its step type does not read (a `stepwise runner` call step's, which carries the
    /// workflow's `{status, headers, body}`): as JSON when its text is JSON, else as written.
    private static func written(_ out: Value?) -> Value {
        guard let out else { return .null }
        guard case .string(let text) = out, let parsed = try? Value(json: text) else { return out }
        return parsed
    }

    /// An `out` as a value: an event's body as JSON when it is JSON, else as text.
    private static func value(_ output: StepOutput) -> Value {
        switch output {
        case .value(let value): value
        case .callResponse(let response): response.json
        case .event(let body): PayloadValue.of(body)
        case .invokeResult(let result): result.json
        }
    }

    /// One delivery attempt.
    static func attempt(_ record: AttemptRecord) -> Value {
        var map = ValueMap([
            ("position", .int(Int64(record.position))), ("attempt", .int(Int64(record.attempt))),
            ("startedAt", .string(record.startedAt.description)), ("finishedAt", .string(record.finishedAt.description)),
            ("outcome", .string(record.outcome)),
        ])
        map[.string("detail")] = record.detail.map(Value.string) ?? .null
        return .map(map)
    }
}
