import Foundation
import GRDB
import StepwiseEngine
import StepwiseSQLite
import StepwiseExpressions
import StepwiseProtocol
@testable import StepwiseRunner
import StepwiseRuntime
import StepwiseServer
import StepwiseTesting
import Synchronization
import Testing

/// Wall-clock time that starts at a chosen instant and can be moved forward: it runs in real time
/// (rate-limit windows pass as usual) plus every jump made with `advance(by:)`.
final class ShiftedClock: Sendable {
    private let origin = Date()
    private let start: TimestampValue
    private let jumped = Mutex<Int128>(0)

    init(startingAt start: TimestampValue) {
        self.start = start
    }

    var now: TimestampValue {
        let elapsed = Int128(Date().timeIntervalSince(origin) * 1e9) + jumped.withLock { $0 }
        return (try? TimestampValue(nanosecondsSinceEpoch: start.nanosecondsSinceEpoch + elapsed)) ?? start
    }

    /// The clock as the engine and the runner read it.
    var read: @Sendable () -> TimestampValue { { [self] in now } }

    func advance(by duration: Duration) {
        let (seconds, attoseconds) = duration.components
        jumped.withLock { $0 += Int128(seconds) * 1_000_000_000 + Int128(attoseconds / 1_000_000_000) }
    }
}

/// The answer to a request chosen from its content (method, query, body).
typealias ContentAnswer = @Sendable (OutgoingRequest) -> ScriptedResponse

/// Sends every request to a counting server on 127.0.0.1 instead of its host, with the real
/// `AsyncHTTPTransport`: `https://<host><path>` becomes `http://127.0.0.1:<port>/<host><path>`,
/// so nothing leaves the machine.
///
/// For the paths in `answers`, the server's answer is chosen from the request: requests to such
/// a path go one at a time, each scripting its answer just before it is sent (the counting server
/// answers a path's requests in the order it scripted them).
struct LoopbackRedirect: HTTPTransport {
    private let target: CountingServer
    private let answers: [String: ContentAnswer]
    private let turnstile = Turnstile()
    private let transport = AsyncHTTPTransport()

    init(to target: CountingServer, answers: [String: ContentAnswer]) {
        self.target = target
        self.answers = answers
    }

    func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        guard let separator = request.url.range(of: "://"), ["http", "https"].contains(String(request.url[..<separator.lowerBound])) else {
            throw TransportFailure(.invalidRequest, "not an http(s) URL: \(request.url)")
        }
        let hostAndPath = request.url[separator.upperBound...]
        var redirected = request
        redirected.url = "http://127.0.0.1:\(target.port)/\(hostAndPath)"
        let path = "/" + (hostAndPath.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
        guard let answer = answers[path] else { return try await transport.send(redirected) }
        await turnstile.enter(path)
        target.script(path, answer(request))
        let sent: Result<IncomingResponse, TransportFailure>
        do {
            sent = .success(try await transport.send(redirected))
        } catch {
            sent = .failure(error)
        }
        await turnstile.leave(path)
        return try sent.get()
    }
}

/// Lets one caller at a time through per key, the others in the order they came.
actor Turnstile {
    private var busy: Set<String> = []
    private var queues: [String: [CheckedContinuation<Void, Never>]] = [:]

    func enter(_ key: String) async {
        guard busy.insert(key).inserted else {
            await withCheckedContinuation { queues[key, default: []].append($0) }
            return
        }
    }

    func leave(_ key: String) {
        guard let next = queues[key]?.first else {
            busy.remove(key)
            return
        }
        queues[key]?.removeFirst()
        next.resume()
    }
}

/// How an example runs: in `stepwise serve`'s process, or split between the engine (`serve
/// --no-runner`) and `stepwise runner`, which talk over the Upstash protocol on loopback.
enum ExampleMode: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case inProcess = "in process"
    case split = "engine + runner"

    var testDescription: String { rawValue }
}

/// Sends requests to 127.0.0.1 as they are (the engine delivering to the runner) and every other
/// one through `external` (the services an example talks to).
struct LoopbackOrRedirect: HTTPTransport {
    let external: any HTTPTransport
    private let loopback = AsyncHTTPTransport()

    func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        try await (request.url.hasPrefix("http://127.0.0.1:") ? loopback : external).send(request)
    }
}

/// Workflows of the repository's `workflows/` folder served as `stepwise serve workflows` does
/// (or, split, as `stepwise serve --no-runner` with `stepwise runner workflows`): a real engine on
/// a SQLite file in a temporary folder with its delivery loop, the runner's `http` steps and the
/// engine's `call` steps sent over loopback to a counting server, dummy values for the secrets the
/// examples declare, and a shifted clock shared by the runner and the engine.
struct ExampleEngine: Sendable {
    let engine: WorkflowEngine
    let store: SQLiteStore
    let clock: ShiftedClock
    /// Where every request goes; its paths are `/<host><path>`.
    let target: CountingServer
    let mode: ExampleMode
    /// Split: the runner's origin, and a reader of the store's file.
    let runner: String?
    let database: DatabaseQueue?

    /// The examples' folder.
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("workflows").path

    /// The dummy value of the secret `name`.
    static func secret(_ name: String) -> String { "test-" + name.lowercased() }

    /// Serves the examples named `workflows` (all of them validated as one folder) in `mode` with
    /// the clock at `start`, runs `body`, and stops everything afterwards (also when `body`
    /// throws). The counting server answers the paths of `answers` from each request's content.
    static func with<T>(
        _ workflows: [String], mode: ExampleMode = .inProcess, startingAt start: String = "2026-05-04T08:00:00Z",
        answers: [String: ContentAnswer] = [:], _ body: (ExampleEngine) async throws -> T
    ) async throws -> T {
        let examples = try WorkflowFolder(path: folder)
        #expect(!examples.hasErrors, "\(examples.files.flatMap(\.diagnostics).map(\.description))")
        let definitions = try workflows.map { name in try #require(examples.definitions[name], "no example named \(name)") }
        let names = Set(definitions.flatMap { $0.workflow.secrets.map(\.value) })
        let secrets = EnvironmentSecrets(Dictionary(uniqueKeysWithValues: names.map { ($0, secret($0)) }))
        let directory = try TemporaryDirectory()
        let clock = ShiftedClock(startingAt: try TimestampValue(parsing: start))
        return try await CountingServer.with { target in
            let transport = LoopbackRedirect(to: target, answers: answers)
            let store = try SQLiteStore(path: directory.path("stepwise.db"))
            let engine = WorkflowEngine(
                store: store, runner: WorkflowRunner(http: transport, secrets: secrets, clock: clock.read),
                calls: LoopbackOrRedirect(external: transport), secrets: secrets, configuration: .init(maximumIdle: .milliseconds(20)),
                logger: silentLogger, clock: clock.read)
            defer { withExtendedLifetime(directory) {} }
            guard mode == .split else {
                try await engine.install(definitions)
                let deliveries = Task { try await engine.runDeliveries() }
                defer { deliveries.cancel() }
                let result = try await body(ExampleEngine(
                    engine: engine, store: store, clock: clock, target: target, mode: mode, runner: nil, database: nil))
                deliveries.cancel()
                _ = await deliveries.result
                return result
            }
            let server = StepwiseServer(
                engine: engine, host: "127.0.0.1", port: 0, access: APIAccess(token: RunningServer.token, boundHost: "127.0.0.1"),
                logger: silentLogger)
            return try await withApplication("the engine", { server.application(onRunning: $0) }) { enginePort in
                let endpoint = await WorkflowEndpoint.serving(
                    try DefinitionVersions(folder: WorkflowFolder(sources: definitions.map { ("\($0.name).yaml", $0.source) }), keptIn: nil),
                    runner: WorkflowRunner(http: transport, secrets: secrets, clock: clock.read),
                    qstash: QStashClient(
                        connection: OrchestratorConnection(url: "http://127.0.0.1:\(enginePort)", token: RunningServer.token),
                        http: AsyncHTTPTransport()),
                    signingKeys: nil, secrets: secrets, http: transport, events: EndpointEventLog(write: nil, clock: clock.read),
                    clock: clock.read)
                let runner = RunnerServer(endpoint: endpoint, host: "127.0.0.1", port: 0, baseURL: nil, logger: silentLogger)
                return try await withApplication("the runner", { runner.application(onRunning: $0) }) { runnerPort in
                    _ = try await runner.registerSchedules(port: runnerPort)
                    var configuration = Configuration()
                    configuration.readonly = true
                    let database = try DatabaseQueue(path: directory.path("stepwise.db"), configuration: configuration)
                    return try await body(ExampleEngine(
                        engine: engine, store: store, clock: clock, target: target, mode: mode, runner: "http://127.0.0.1:\(runnerPort)",
                        database: database))
                }
            }
        }
    }

    /// Starts a run of `workflow` with the JSON `input` (split: through the runner's endpoint, as
    /// an application would); returns its id.
    func start(_ workflow: String, _ input: String) async throws -> String {
        guard let runner else { return try await engine.start(workflow: workflow, input: try Value(json: input)).run.id }
        let answer = try await send(.POST, "\(runner)/workflows/\(workflow)", body: input, token: nil)
        guard answer.status == 200, let id = answer.json?["workflowRunId"]?.string else {
            throw WaitTimeout(description: "the runner refused to start \(workflow): \(answer.status) \(answer.body)")
        }
        return id
    }

    /// The run once it has ended. Two minutes: in dry runs of CI, with the whole suite on two
    /// cores, a split run of order-fulfillment passed 45 s three times in some twenty runs, and
    /// finished in 1.3 s alone even beside three busy processes (the stall is not understood).
    func finished(_ id: String) async throws -> RunRecord {
        try await finishedRun(id, in: store, within: .seconds(120))
    }

    /// The output of run `id` once it has ended; an issue, with the run's error, when it did not succeed.
    func output(of id: String, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> Value? {
        let run = try await finished(id)
        #expect(run.status == .succeeded, "\(String(describing: run.error))", sourceLocation: sourceLocation)
        return run.output
    }

    /// The error of run `id` once it has ended; an issue when it did not end with `status`.
    func error(of id: String, status: RunStatus = .failed, sourceLocation: Testing.SourceLocation = #_sourceLocation) async throws -> StepError {
        let run = try await finished(id)
        #expect(run.status == status, sourceLocation: sourceLocation)
        return try #require(run.error, sourceLocation: sourceLocation)
    }

    /// Waits until the step `step` of run `id` is parked with the engine (sleeping, waiting, or
    /// waiting to retry); throws at once, with the run's error, when the run ends instead, unless
    /// `orPassed` and the run succeeded with the step in its journal.
    func parked(_ id: String, _ step: String, orPassed: Bool = false) async throws {
        _ = try await eventually("step \(step) of run \(id) to be parked") { () async throws -> Bool? in
            guard let run = try await store.run(id: id), run.status.isFinal else {
                if mode == .split { return try await isParkedOverProtocol(id, step) ? true : nil }
                return try await store.progress(runId: id).pending.contains(step) ? true : nil
            }
            if orPassed, run.status == .succeeded, try await journal(of: id).contains(where: { $0.stepName == step }) { return true }
            throw WaitTimeout(description: "run \(id) ended \(run.status) before step \(step) was parked: \(String(describing: run.error))")
        }
    }

    /// Split, the engine knows only the run's messages and log: the step is parked when no
    /// message of the run is due or in flight, and the step is its sleep in the log, its wait, or
    /// a try that asked to be retried later.
    private func isParkedOverProtocol(_ id: String, _ step: String) async throws -> Bool {
        guard let database else { return false }
        let now = Int64(clamping: clock.now.nanosecondsSinceEpoch / 1_000_000)
        let (busy, waiting, retrying) = try await database.read { db in
            (
                try Int.fetchOne(
                    db, sql: "SELECT COUNT(*) FROM queue WHERE run_id = ? AND (lease_owner IS NOT NULL OR due_at <= ?)", arguments: [id, now]) ?? 0,
                try String.fetchAll(db, sql: "SELECT payload FROM operations WHERE run_id = ? AND kind = 'endpoint-wait'", arguments: [id])
                    .contains { payload in
                        let wait = try? JSONDecoder().decode(EndpointWait.self, from: Data(payload.utf8))
                        return wait.flatMap { try? StepJSON(bytes: Array($0.step.utf8)).stepName } == step
                    },
                try String.fetchOne(db, sql: "SELECT outcome FROM attempts WHERE run_id = ? ORDER BY id DESC LIMIT 1", arguments: [id]) == "retry"
            )
        }
        guard busy == 0 else { return false }
        if waiting || retrying { return true }
        return try await journal(of: id).contains { $0.stepName == step }
    }

    /// Moves the clock forward by `duration` (split, a second more: QStash's delays and timeouts
    /// are whole seconds).
    func advance(by duration: Duration) {
        clock.advance(by: mode == .split ? duration + .seconds(1) : duration)
    }

    /// Waits until the step `step` of run `id` is parked, then moves the clock forward by
    /// `duration` (split, a second more: QStash's delays and timeouts are whole seconds). The
    /// clock runs in real time: a sleep shorter than it takes to see it parked on a loaded
    /// machine (the quick start's 2 s, with the whole suite on two cores) may pass on its own.
    func pass(_ step: String, of id: String, after duration: Duration) async throws {
        try await parked(id, step, orPassed: true)
        advance(by: duration)
    }

    /// The journal of run `id`: in process, the engine's; split, the run's log as the runner reads it.
    func journal(of id: String) async throws -> [JournalEntry] {
        guard mode == .split else { return try await store.journal(runId: id) }
        return try ProtocolJournal(RawStepArray(try await store.runLog(runId: id, through: nil)), runId: id).entries
    }

    /// The journaled result of the step at `path` of run `id`.
    func result(of path: String, in id: String) async throws -> Value? {
        try await journal(of: id).last { $0.stepName == path }?.out
    }

    /// The runs of the example `workflow` (split, their workflow is the endpoint's URL).
    func runs(of workflow: String) async throws -> [RunRecord] {
        try await store.runs(RunFilter(workflow: runner.map { "\($0)/workflows/\(workflow)" } ?? workflow))
    }

    /// The requests to `path` (`/<host><path>`), in the order they arrived.
    func requests(to path: String) -> [ReceivedRequest] {
        target.requests(to: path)
    }

    /// The JSON bodies of the requests to `path`, in the order they arrived.
    func bodies(_ path: String) throws -> [Value] {
        try requests(to: path).map { try Value(json: $0.body) }
    }
}

extension OutgoingRequest {
    /// The body as JSON (`null` when there is none or it is not JSON).
    var json: Value {
        (try? Value(json: String(decoding: body ?? [], as: UTF8.self))) ?? .null
    }
}
