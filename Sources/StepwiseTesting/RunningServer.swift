import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Prometheus
import StepwiseEngine
import StepwiseSQLite
import StepwiseExpressions
import StepwiseRuntime
import StepwiseServer

/// `stepwise serve` in-process: the Stepwise application (routes and delivery loop) on
/// 127.0.0.1 with a port picked by the system, on a SQLite file in a temporary directory (or a
/// fresh PostgreSQL database).
public struct RunningServer: Sendable {
    /// The API token of every test server; `send` presents it unless told otherwise.
    public static let token = "test-token-0123456789abcdef"

    public let port: Int
    public let engine: WorkflowEngine
    public let store: any Store

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Starts a server for `definitions`, runs `body` with it, and shuts it down afterwards (also
    /// when `body` throws). The runner and the engine read `secrets`; both log to `logger`; the
    /// store is `stepwise.db` in `directory` (a new temporary one when not given); connections are
    /// held to `limits`, and the clients `trustedProxies` name are the callers; the engine reads
    /// `clock`. With `store: .postgres` the runs are kept in a database of their own, dropped afterwards.
    public static func with<T>(
        _ definitions: [WorkflowDefinition], store kind: StoreKind = .sqlite, secrets: [String: String] = [:], logger: Logger = silentLogger,
        directory: TemporaryDirectory? = nil, limits: ConnectionLimits = ConnectionLimits(), trustedProxies: TrustedProxies = TrustedProxies(),
        configuration: WorkflowEngine.Configuration = .init(), clock: @escaping @Sendable () -> TimestampValue = WorkflowEngine.systemTime,
        _ body: (RunningServer) async throws -> T
    ) async throws -> T {
        let directory = try directory ?? TemporaryDirectory()
        let opened = try await kind.open(in: directory, file: "stepwise.db")
        do {
            let result = try await serve(
                definitions, store: opened.store, secrets: secrets, logger: logger, limits: limits, trustedProxies: trustedProxies, configuration: configuration,
                clock: clock, body)
            await opened.close()
            return result
        } catch {
            await opened.close()
            throw error
        }
    }

    /// Starts a server for `definitions` over `store`, which the caller opened and closes (a
    /// store configured as the test needs), runs `body` with it, and shuts it down afterwards.
    public static func with<T>(
        _ definitions: [WorkflowDefinition], over store: any Store, logger: Logger = silentLogger, _ body: (RunningServer) async throws -> T
    ) async throws -> T {
        try await serve(
            definitions, store: store, secrets: [:], logger: logger, limits: ConnectionLimits(), trustedProxies: TrustedProxies(),
            configuration: .init(), clock: WorkflowEngine.systemTime, body)
    }

    private static func serve<T>(
        _ definitions: [WorkflowDefinition], store: any Store, secrets: [String: String], logger: Logger, limits: ConnectionLimits,
        trustedProxies: TrustedProxies, configuration: WorkflowEngine.Configuration, clock: @escaping @Sendable () -> TimestampValue, _ body: (RunningServer) async throws -> T
    ) async throws -> T {
        let runner = WorkflowRunner(
            http: AsyncHTTPTransport(), secrets: EnvironmentSecrets(secrets), retryDelayScale: configuration.retryDelayScale, clock: WorkflowEngine.systemTime)
        let registry = PrometheusCollectorRegistry()
        let engine = WorkflowEngine(
            store: store, runner: runner, secrets: EnvironmentSecrets(secrets), configuration: configuration, logger: logger,
            metrics: EngineMetrics(factory: DescribedMetricsFactory(registry: registry)), clock: clock)
        try await engine.install(definitions)
        let server = StepwiseServer(
            engine: engine, host: "127.0.0.1", port: 0, access: APIAccess(token: Self.token, boundHost: "127.0.0.1"), limits: limits,
            trustedProxies: trustedProxies, registry: registry, logger: logger)
        return try await withApplication("the Stepwise server", { server.application(onRunning: $0) }) { port in
            try await body(RunningServer(port: port, engine: engine, store: store))
        }
    }
}

extension RunningServer {
    /// Stores `count` succeeded runs of `definition` directly (ids `run-00000`…), ten per
    /// millisecond of creation time from `base`, so that listings also have ties to break.
    public func insertFinishedRuns(_ count: Int, of definition: WorkflowDefinition) async throws -> [String] {
        let base = try TimestampValue(nanosecondsSinceEpoch: 1_700_000_000_000_000_000)
        var created: [String] = []
        for index in 0..<count {
            let at = try base.plus(seconds: Double(index / 10) / 1_000)
            let run = RunRecord(
                id: String(format: "run-%05d", index), workflow: definition.workflow.name.value, definitionHash: definition.hash,
                input: ["name": "x"], status: .succeeded, createdAt: at, updatedAt: at, output: .null)
            _ = try await store.createRun(run)
            created.append(run.id)
        }
        return created
    }

    /// Starts a run of `workflow` over HTTP with `body` as input and returns its id; a refusal is
    /// thrown with the server's answer.
    public func startRun(_ workflow: String, _ body: String, headers: [(String, String)] = []) async throws -> String {
        let answer = try await send(.POST, url("/workflows/\(workflow)"), body: body, headers: headers)
        guard answer.status == 200, let id = answer.json?["workflowRunId"]?.string else {
            throw WaitTimeout(description: "starting \(workflow) was refused: \(answer.status) \(answer.body)")
        }
        return id
    }
}

/// A response read completely.
public struct HTTPAnswer: Sendable {
    public let status: Int
    public let contentType: String?
    public let body: String
    /// The `Set-Cookie` header, if any.
    public var setCookie: String? = nil
    /// The `Retry-After` header, if any.
    public var retryAfter: String? = nil

    /// The body as JSON; `nil` when it is not JSON.
    public var json: Value? { try? Value(json: body) }

    /// The `error` message of a JSON error body.
    public var error: String? { json?["error"]?.string }
}

/// Sends one request with AsyncHTTPClient and reads the whole answer; presents `token` as a
/// bearer token when there is one (by default the test servers' token).
public func send(
    _ method: HTTPMethod, _ url: String, body: String? = nil, bytes: [UInt8]? = nil, headers: [(String, String)] = [],
    token: String? = RunningServer.token
) async throws -> HTTPAnswer {
    var request = HTTPClientRequest(url: url)
    request.method = method
    if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
    for (name, value) in headers { request.headers.add(name: name, value: value) }
    if let body {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: body))
    } else if let bytes {
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: bytes))
    }
    // Generous: with every suite running at once on 2 cores, a request with a 2 MiB body took
    // over 10 s (a full `swift test`, session 36); a test states what comes back, not how fast.
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
    let collected = try await response.body.collect(upTo: 4 << 20)
    return HTTPAnswer(
        status: Int(response.status.code), contentType: response.headers.first(name: "Content-Type"), body: String(buffer: collected),
        setCookie: response.headers.first(name: "Set-Cookie"), retryAfter: response.headers.first(name: "Retry-After"))
}
