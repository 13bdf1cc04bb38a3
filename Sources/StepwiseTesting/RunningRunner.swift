import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRunner
import StepwiseRuntime
import StepwiseServer

/// A `stepwise runner` on a free loopback port whose QStash is a running Stepwise server, for
/// tests of split deployments over real HTTP.
public struct RunningRunner: Sendable {
    /// The port the runner listens on.
    public let port: Int
    /// The engine the runner submits to.
    public let engine: RunningServer
    let endpoint: WorkflowEndpoint
    let versionsDirectory: String?

    /// The endpoint URL of `workflow`.
    public func url(_ workflow: String) -> String { "http://127.0.0.1:\(port)/workflows/\(workflow)" }

    /// Starts a runner serving `definitions` (plus the versions kept in `versionsDirectory`)
    /// against `engine` on `port` (0: a free one; a redeploy reuses the previous one), runs `body`
    /// with it, and shuts it down afterwards. The runner reads `secrets` and, when `signingKeys`
    /// are given, refuses unsigned requests; `limits` bound its connections and deliveries.
    public static func with<T>(
        _ definitions: [WorkflowDefinition], engine: RunningServer, port: Int = 0, secrets: [String: String] = [:],
        signingKeys: SigningKeys? = nil, versionsDirectory: String? = nil, limits: ConnectionLimits = ConnectionLimits(),
        events: (@Sendable (String) -> Void)? = nil, _ body: (RunningRunner) async throws -> T
    ) async throws -> T {
        let folder = WorkflowFolder(sources: definitions.map { ("\($0.name).yaml", $0.source) })
        let versions = try DefinitionVersions(folder: folder, keptIn: versionsDirectory)
        let http = AsyncHTTPTransport()
        let endpoint = await WorkflowEndpoint.serving(
            versions,
            runner: WorkflowRunner(http: http, secrets: EnvironmentSecrets(secrets), clock: WorkflowEngine.systemTime),
            qstash: QStashClient(connection: OrchestratorConnection(url: engine.url(""), token: RunningServer.token), http: http),
            signingKeys: signingKeys, secrets: EnvironmentSecrets(secrets), http: http,
            events: EndpointEventLog(write: events, clock: WorkflowEngine.systemTime), clock: WorkflowEngine.systemTime)
        let server = RunnerServer(endpoint: endpoint, host: "127.0.0.1", port: port, baseURL: nil, limits: limits, logger: silentLogger)
        // A redeploy on the previous port may find it held a moment longer by the runner that just
        // stopped, or briefly by another test's connection: it tries again for up to two seconds.
        var attempt = 1
        while true {
            do {
                return try await withApplication("the runner", { server.application(onRunning: $0) }) { port in
                    _ = try await server.registerSchedules(port: port)
                    return try await body(RunningRunner(port: port, engine: engine, endpoint: endpoint, versionsDirectory: versionsDirectory))
                }
            } catch is ApplicationStartFailure where port != 0 && attempt < 20 {
                attempt += 1
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Serves `definitions` from now on, as a SIGHUP makes `stepwise runner` serve its folder anew.
    public func reload(_ definitions: [WorkflowDefinition]) throws -> WorkflowReload {
        let folder = WorkflowFolder(sources: definitions.map { ("\($0.name).yaml", $0.source) })
        return endpoint.reload(try DefinitionVersions(folder: folder, keptIn: versionsDirectory))
    }

    /// Starts a run of `workflow` through the runner's endpoint; its run id.
    public func start(_ workflow: String, _ body: String, headers: [(String, String)] = []) async throws -> String {
        let answer = try await send(.POST, url(workflow), body: body, headers: headers, token: nil)
        guard answer.status == 200, let id = answer.json?["workflowRunId"]?.string else {
            throw WaitTimeout(description: "starting \(workflow) through the runner was refused: \(answer.status) \(answer.body)")
        }
        return id
    }
}
