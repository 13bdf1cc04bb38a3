import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// How a run appears in Upstash's logs API (`GET /v2/workflows/logs`, and `/v2/workflows/events`
/// grouped by run, as the SDKs' `logs()` read it): its state, response and step groups, for YAML
/// runs (from the journal) and SDK runs (from the log) alike.
enum WorkflowRunLogView {
    /// Upstash's name of a run status.
    static func state(_ status: RunStatus) -> String {
        switch status {
        case .running: "RUN_STARTED"
        case .succeeded: "RUN_SUCCESS"
        case .failed: "RUN_FAILED"
        case .canceled: "RUN_CANCELED"
        }
    }

    /// The run status an Upstash state names, if any.
    static func status(_ state: String) -> RunStatus? {
        RunStatus.allCases.first { Self.state($0) == state }
    }

    /// An SDK run's log as the logs API shows it: its entries, when each was recorded, and the
    /// messages that appended them as QStash's message log keeps them (by message id; those it no
    /// longer keeps are missing).
    struct SDKLog: Sendable {
        /// The entries, in log order.
        var entries: [RawStep] = []
        /// When each entry was recorded, in unix milliseconds, in log order.
        var recordedAt: [Int64] = []
        /// The messages that appended them, as created (`QueuedMessage.shown`), by id.
        var messages: [String: QueuedMessage] = [:]

        /// Upstash's fields of the entry at `position` that come from outside its step JSON: when it
        /// was recorded, and its message's retries, retry delay and headers, when known.
        func fields(at position: Int) -> [(String, Value)] {
            var fields: [(String, Value)] = []
            if recordedAt.indices.contains(position) { fields.append(("createdAt", .int(recordedAt[position]))) }
            guard entries.indices.contains(position), let message = messages[entries[position].messageId] else { return fields }
            fields.append(("retries", .int(Int64(message.retries))))
            if let retryDelay = message.retryDelay { fields.append(("retryDelay", .string(retryDelay))) }
            fields.append(("headers", QStashMessageView.headers(of: message)))
            return fields
        }
    }

    /// One run: `url` is its workflow URL (an SDK run's endpoint, a YAML run's route on this server);
    /// `deadLetter` is a failed SDK run's DLQ entry, which tells the delivery that failed it;
    /// `waits`, a running YAML run's waits, name their events in its `next` group.
    static func run(
        _ run: RunRecord, url: String, progress: RunProgress, log: SDKLog, attempts: [AttemptRecord], deadLetter: DeadLetter?,
        next deliveries: [NextDelivery] = [], waits: [PendingWait] = [], fanOutSteps: Set<String> = []
    ) -> Value {
        var map = ValueMap([
            ("workflowRunId", .string(run.id)), ("workflowUrl", .string(url)), ("workflowState", .string(state(run.status))),
            ("workflowRunCreatedAt", .int(run.createdAt.millisecondsSinceEpoch)),
        ])
        if run.status.isFinal { map[.string("workflowRunCompletedAt")] = .int(run.updatedAt.millisecondsSinceEpoch) }
        if let output = run.output { map[.string("workflowRunResponse")] = RunBodyRedaction.shown(output.jsonText(), of: run) }
        if run.status == .failed { map[.string("dlqId")] = .string(DeadLetter.id(ofRun: run.id)) }
        if let label = run.label { map[.string("label")] = .string(label) }
        if let callerIp = run.callerIp { map[.string("workflowRunCallerIp")] = .string(callerIp) }
        let failure = deadLetter.flatMap(FailedDelivery.init)
        // A step of a parallel group that failed the run is shown in its group, as Upstash does.
        let failedPlan = run.endpoint == nil ? nil : failure.flatMap { failure in failure.plan(in: log).map { (position: $0, failure: failure) } }
        var groups = run.endpoint == nil
            ? journalGroups(progress.journal, attempts: attempts, createdAt: run.createdAt, fanOutSteps: fanOutSteps)
            : logGroups(log, run: run, failedPlan: failedPlan)
        // A YAML run's cancel drops its pending steps with their operations: only an SDK run's
        // canceled deliveries are known afterwards (from QStash's message log).
        if run.status == .running, let next = run.endpoint == nil ? next(progress, waits: waits) : next(deliveries, canceled: false) {
            groups.append(next)
        }
        if run.status == .canceled, run.endpoint != nil, let next = next(deliveries, canceled: true) { groups.append(next) }
        if failedPlan == nil, let failure { groups.append(["type": "next", "steps": [failure.step]]) }
        map[.string("steps")] = .list(groups)
        if let parent = run.parent { map[.string("invoker")] = ["workflowRunId": .string(parent.runId)] }
        return .map(map)
    }

    /// A YAML run's journal: the steps inside one of `fanOutSteps`, its top-level `parallel` and
    /// `for_each` steps (structural paths `both.left.l`, `fanout[2].send`), in one parallel group,
    /// as an SDK run's, every other entry in a sequential group of its own; an entry's time is the
    /// end of the delivery that recorded it.
    private static func journalGroups(
        _ journal: [JournalEntry], attempts: [AttemptRecord], createdAt: TimestampValue, fanOutSteps: Set<String>
    ) -> [Value] {
        grouped(journal.enumerated().map { position, entry in
            (journalStep(entry, at: position, attempts: attempts, createdAt: createdAt), fanOutStep(of: entry.stepName, among: fanOutSteps))
        })
    }

    /// The fan-out step among `fanOutSteps` a structural path lies inside; `nil` for any other.
    private static func fanOutStep(of path: String, among fanOutSteps: Set<String>) -> String? {
        guard let end = path.firstIndex(where: { $0 == "." || $0 == "[" }) else { return nil }
        let top = String(path[..<end])
        return fanOutSteps.contains(top) ? top : nil
    }

    /// One entry of a YAML run's journal as a step of the logs.
    private static func journalStep(_ entry: JournalEntry, at position: Int, attempts: [AttemptRecord], createdAt: TimestampValue) -> Value {
        let recorded = attempts.first { $0.position == position && ($0.outcome == "submitted" || $0.outcome == "completed") }?.finishedAt ?? createdAt
        var step = ValueMap([
            ("stepId", .int(Int64(entry.stepId))), ("stepName", .string(entry.stepName)), ("stepType", .string(entry.stepType.rawValue)),
            ("callType", "step"), ("messageId", ""), ("concurrent", .int(Int64(entry.concurrent))),
            ("state", .string(entry.error == nil ? "STEP_SUCCESS" : "STEP_FAILED")), ("retries", 0),
            ("createdAt", .int(recorded.millisecondsSinceEpoch)),
        ])
        step[.string("out")] = entry.out.map { .string($0.jsonText()) } ?? .null
        if let error = entry.error { step[.string("errors")] = .list([["error": .string(error.message)]]) }
        return .map(step)
    }

    /// Steps in Upstash's groups: consecutive steps of one fan-out (the same `group`) in one
    /// `parallel` group, each step of none (`nil`) in a `sequential` group of its own.
    private static func grouped(_ steps: [(step: Value, group: String?)]) -> [Value] {
        var groups: [Value] = []
        var parallel: (group: String, steps: [Value])?
        for (step, group) in steps {
            if let group, parallel?.group == group {
                parallel?.steps.append(step)
                continue
            }
            if let finished = parallel { groups.append(["type": "parallel", "steps": .list(finished.steps)]) }
            parallel = group.map { ($0, [step]) }
            if group == nil { groups.append(["type": "sequential", "steps": [step]]) }
        }
        if let finished = parallel { groups.append(["type": "parallel", "steps": .list(finished.steps)]) }
        return groups
    }

    /// An SDK run's log: its initial payload (Upstash's `init` step), then its result steps (not
    /// plans, not a call's request), those run in one parallel group together; `failedPlan` is
    /// the position of the plan of a parallel step that failed the run, shown in its group.
    private static func logGroups(_ log: SDKLog, run: RunRecord, failedPlan: (position: Int, failure: FailedDelivery)?) -> [Value] {
        guard let initial = log.entries.first else { return [] }
        // Steps run together (a plan, a `concurrent` result) share one group, as Upstash shows them.
        let together = "parallel"
        var steps: [(step: Value, group: String?)] = [(initialStep(initial, run: run, fields: log.fields(at: 0)), nil)]
        for (position, raw) in log.entries.enumerated().dropFirst() where raw.callType == .step {
            guard let step = try? raw.step() else { continue }
            if step.isPlan {
                guard let failedPlan, failedPlan.position == position else { continue }
                steps.append((failedPlan.failure.planStep(step, fields: log.fields(at: position)), together))
                continue
            }
            var map = step.object
            if case .string(let out) = map[.string("out")] { map[.string("out")] = RunBodyRedaction.shown(out, of: run) }
            map[.string("messageId")] = .string(raw.messageId)
            map[.string("callType")] = .string(raw.callType.rawValue)
            map[.string("state")] = "STEP_SUCCESS"
            for (name, value) in log.fields(at: position) { map[.string(name)] = value }
            steps.append((.map(map), (step.concurrent ?? 1) > 1 ? together : nil))
        }
        return grouped(steps)
    }

    /// The initial payload as Upstash's logs show it: step 0, `init`, its `out` the payload's text,
    /// created with the run, with the trigger message's `fields`.
    private static func initialStep(_ raw: RawStep, run: RunRecord, fields: [(String, Value)]) -> Value {
        var map = ValueMap([
            ("stepId", 0), ("stepName", "init"), ("stepType", .string(StepType.initial.rawValue)),
            ("out", RunBodyRedaction.shown(String(decoding: raw.body, as: UTF8.self), of: run)), ("messageId", .string(raw.messageId)), ("callType", "step"),
            ("concurrent", 1), ("state", "STEP_SUCCESS"),
        ])
        for (name, value) in fields { map[.string(name)] = value }
        map[.string("createdAt")] = .int(run.createdAt.millisecondsSinceEpoch)
        return .map(map)
    }

    /// A delivery a running SDK run waits on, or one a canceled run's cancel dropped, with the errors
    /// of its attempts so far, oldest first.
    struct NextDelivery: Sendable {
        /// The queued message (its body is not shown).
        var message: QueuedMessage
        /// The `ERROR` events of its attempts so far, oldest first.
        var errors: [MessageEvent]

        /// Whether Upstash's logs show a queued message of a run as its next step: a delivery to
        /// the endpoint, a call or a call's answer, not a wait's timeout or a failure callback.
        static func isShown(_ message: QueuedMessage) -> Bool {
            message.role == .workflow || message.role == .call || message.role == .callback
        }
    }

    /// The delivery that failed an SDK run, kept by its DLQ entry, as Upstash shows it: `STEP_FAILED`
    /// with the error and the endpoint's answer, in a `next` group of its own, or in its parallel
    /// group when it ran a step of one.
    struct FailedDelivery {
        /// The delivery.
        var message: QueuedMessage
        /// Why it failed, with the endpoint's answer.
        var error: Value

        /// The failed delivery of `deadLetter`; `nil` for an entry that keeps none (a YAML run's).
        init?(_ deadLetter: DeadLetter) {
            guard let message = deadLetter.message else { return nil }
            self.message = message
            error = WorkflowRunLogView.stepError(
                deadLetter.error?.message ?? "the delivery failed", answer: deadLetter.response, at: deadLetter.createdAt.millisecondsSinceEpoch)
        }

        /// The step of a `next` group.
        var step: Value { nextStep(message, state: "STEP_FAILED", errors: [error]) }

        /// The position in `log` of the plan of a parallel step this delivery ran, if it ran one.
        func plan(in log: SDKLog) -> Int? {
            log.entries.indices.dropFirst().first { position in
                let entry = log.entries[position]
                guard entry.messageId == message.id, entry.callType == .step, let step = try? entry.step() else { return false }
                return step.isPlan && (step.concurrent ?? 1) > 1
            }
        }

        /// The planned step as its parallel group shows it once it failed: its id, name, type and
        /// group size from the plan, with `fields` (when recorded, retries, headers), whose retries
        /// and headers the DLQ's delivery gives once the message log no longer keeps them.
        func planStep(_ plan: StepJSON, fields: [(String, Value)]) -> Value {
            var map = ValueMap([
                ("stepId", .int(plan.targetStep ?? 0)), ("stepName", .string(plan.stepName)), ("stepType", .string(plan.stepType)),
                ("callType", .string(CallType.step.rawValue)), ("messageId", .string(message.id)), ("concurrent", .int(plan.concurrent ?? 1)),
                ("state", "STEP_FAILED"), ("errors", [error]), ("retries", .int(Int64(message.retries))), ("headers", QStashMessageView.headers(of: message)),
            ])
            if let retryDelay = message.retryDelay { map[.string("retryDelay")] = .string(retryDelay) }
            for (name, value) in fields { map[.string(name)] = value }
            return .map(map)
        }
    }

    /// The deliveries a running SDK run waits on, as Upstash's `next` group: `STEP_PROGRESS`, or
    /// `STEP_RETRY` with the errors of the attempts made; for a canceled run, those its cancel
    /// dropped, `STEP_CANCELED`; `nil` when there are none.
    private static func next(_ deliveries: [NextDelivery], canceled: Bool) -> Value? {
        guard !deliveries.isEmpty else { return nil }
        return [
            "type": "next",
            "steps": .list(deliveries.map { delivery in
                let errors = delivery.errors.map { stepError($0.error ?? "the delivery failed", answer: $0.answer, at: $0.time) }
                let state = canceled ? "STEP_CANCELED" : delivery.message.attempt > 0 ? "STEP_RETRY" : "STEP_PROGRESS"
                return nextStep(delivery.message, state: state, errors: errors)
            }),
        ]
    }

    /// One step of a `next` group: the message, its state, retries and retry delay, its errors.
    private static func nextStep(_ message: QueuedMessage, state: String, errors: [Value]) -> Value {
        var step = ValueMap([("messageId", .string(message.id)), ("state", .string(state)), ("retries", .int(Int64(message.retries)))])
        if !errors.isEmpty { step[.string("errors")] = .list(errors) }
        if let retryDelay = message.retryDelay { step[.string("retryDelay")] = .string(retryDelay) }
        return .map(step)
    }

    /// An error of a `next` step as Upstash shows it: why, what the endpoint answered, when.
    private static func stepError(_ why: String, answer: AttemptAnswer?, at time: Int64) -> Value {
        var error = ValueMap([("error", .string(why))])
        if let answer {
            error[.string("body")] = .string(String(decoding: answer.body, as: UTF8.self))
            error[.string("headers")] = QStashMessageView.headers(answer.headers)
            error[.string("status")] = .int(Int64(answer.status))
        }
        error[.string("time")] = .int(time)
        return .map(error)
    }

    /// The steps a running run is waiting on (sleeps, waits, calls, retries), as Upstash's `next`
    /// group; a wait with Upstash's `waitEventId` and `waitTimeoutDeadline` (unix ms).
    private static func next(_ progress: RunProgress, waits: [PendingWait]) -> Value? {
        guard !progress.pending.isEmpty else { return nil }
        return [
            "type": "next",
            "steps": .list(progress.pending.sorted().map { name in
                let retries = progress.failures[name] ?? 0
                var step = ValueMap([
                    ("stepName", .string(name)), ("messageId", ""), ("state", .string(retries > 0 ? "STEP_RETRY" : "STEP_PROGRESS")),
                    ("retries", .int(Int64(retries))),
                ])
                if let wait = waits.first(where: { $0.step == name }) {
                    step[.string("waitEventId")] = .string(wait.event)
                    step[.string("waitTimeoutDeadline")] = .int(wait.timeoutAt.millisecondsSinceEpoch)
                }
                return .map(step)
            }),
        ]
    }
}
