import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol
import StepwiseRuntime

/// The `schedule` entries of the served workflows as QStash schedules of their endpoints (§10.2):
/// each tick is a plain delivery, a first invocation that starts a run. Registering creates or
/// replaces the runner's schedules under stable ids and deletes those it registered before for
/// entries that are gone, leaving every other schedule (other runners', SDK clients') alone.
struct ScheduleRegistration: Sendable {
    let versions: DefinitionVersions
    let qstash: QStashClient

    /// One schedule to register.
    struct Entry: Sendable, Equatable {
        let id: String
        let destination: String
        let cron: String
        let body: [UInt8]
    }

    /// The schedules of the current versions served at `baseURL`. Ids name the workflow and the
    /// entry's position, and end in a hash of the base URL, so two deployments (staging and
    /// production) sharing one QStash keep their own.
    func entries(baseURL: String) -> [Entry] {
        let suffix = Self.suffix(baseURL: baseURL)
        return versions.current.values.sorted { $0.name < $1.name }.flatMap { definition in
            definition.workflow.schedules.enumerated().map { position, schedule in
                let input = (try? schedule.input?.constantValue()) ?? [:]
                let cron = schedule.cron.value.description
                return Entry(
                    id: "stepwise-\(definition.name)-\(position)-\(suffix)", destination: baseURL + "/workflows/" + definition.name,
                    cron: schedule.timeZone.map { "CRON_TZ=\($0.value) \(cron)" } ?? cron, body: Array(input.jsonText().utf8))
            }
        }
    }

    /// Registers the schedules of `baseURL` and removes the runner's stale ones; how many are registered.
    func register(baseURL: String) async throws(OrchestratorFailure) -> Int {
        let wanted = entries(baseURL: baseURL)
        for entry in wanted {
            try await qstash.createSchedule(
                destination: entry.destination,
                headers: HeaderFields([("Upstash-Cron", entry.cron), ("Upstash-Schedule-Id", entry.id), ("Content-Type", "application/json")]),
                body: entry.body)
        }
        let suffix = "-" + Self.suffix(baseURL: baseURL)
        let ids = Set(wanted.map(\.id))
        for existing in try await qstash.schedules()
        where existing.id.hasPrefix("stepwise-") && existing.id.hasSuffix(suffix) && !ids.contains(existing.id) {
            try await qstash.deleteSchedule(existing.id)
        }
        return wanted.count
    }

    /// The entries (`<workflow> schedule <position>`) with `overlap: skip`, which a QStash
    /// schedule cannot apply: it knows nothing of the runs its ticks start.
    func skippingOverlaps() -> [String] {
        versions.current.values.sorted { $0.name < $1.name }.flatMap { definition in
            definition.workflow.schedules.enumerated().filter { $0.element.overlap == .skip }.map { "\(definition.name) schedule \($0.offset)" }
        }
    }

    /// Eight hex digits naming the base URL.
    private static func suffix(baseURL: String) -> String {
        RunMessages.hexDigest(baseURL, bytes: 4)
    }
}

extension WorkflowEndpoint {
    /// Registers the served workflows' `schedule` entries with the orchestrator as schedules of
    /// their endpoints at `baseURL` (and removes this runner's stale ones); how many there are.
    public func registerSchedules(baseURL: String) async throws(OrchestratorFailure) -> Int {
        try await ScheduleRegistration(versions: versions, qstash: qstash).register(baseURL: baseURL)
    }

    /// The served `schedule` entries with `overlap: skip`, which the orchestrator's schedules
    /// cannot apply (`<workflow> schedule <position>`).
    public var schedulesSkippingOverlaps: [String] {
        ScheduleRegistration(versions: versions, qstash: qstash).skippingOverlaps()
    }
}
