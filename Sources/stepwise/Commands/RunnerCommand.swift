import ArgumentParser
import Foundation
import Logging
import StepwiseEngine
import StepwiseExpressions
import StepwiseLanguage
import StepwiseProtocol
import StepwiseRunner
import StepwiseRuntime
import StepwiseServer

/// `stepwise runner`: the workflows of a folder as Upstash Workflow endpoints, behind Stepwise's
/// engine or Upstash QStash, configured as Upstash's `serve` is (the same environment variables).
struct RunnerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runner",
        abstract: "Serve a folder of workflows as Upstash Workflow endpoints (POST /workflows/{name}).",
        discussion: """
            The orchestrator is QSTASH_URL with QSTASH_TOKEN: a `stepwise serve` (its API token) or Upstash QStash. With \
            QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY set, unsigned or forged requests are refused. Behind a \
            proxy, UPSTASH_WORKFLOW_URL (or --base-url) is the public address the endpoints are registered under.
            """
    )

    @Option(name: .long, help: "The folder of workflow files.")
    var workflows = "workflows"

    @Option(name: .long, help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, parsing: .unconditional, help: "The port to listen on (0 picks a free one).")
    var port = 8081

    @Option(name: .customLong("qstash-url"), help: "The orchestrator's URL (default: $QSTASH_URL, else http://127.0.0.1:8080).")
    var qstashURL: String?

    @Option(name: .customLong("qstash-token"), help: "The orchestrator's token (default: $QSTASH_TOKEN, else $STEPWISE_TOKEN or .stepwise/token).")
    var qstashToken: String?

    @Option(name: .customLong("current-signing-key"), help: "Verify deliveries with this key (default: $QSTASH_CURRENT_SIGNING_KEY).")
    var currentSigningKey: String?

    @Option(name: .customLong("next-signing-key"), help: "…or this one (default: $QSTASH_NEXT_SIGNING_KEY).")
    var nextSigningKey: String?

    @Option(name: .customLong("base-url"), help: "The public base URL of the endpoints (default: $UPSTASH_WORKFLOW_URL, else the request's Host).")
    var baseURL: String?

    @Option(
        name: .customLong("shutdown-timeout"), parsing: .unconditional,
        help: "On SIGTERM or SIGINT, how long to let requests in flight (a step's http call) finish before exiting; the orchestrator delivers again what got no answer.")
    var shutdownTimeout = DurationArgument("30s", .seconds(30))

    @OptionGroup var drain: DrainOption

    @Option(name: .long, help: "Where every served version of a workflow is kept, so runs pinned to it finish after a redeploy.")
    var versions = ".stepwise/versions"

    @Flag(name: .long, help: "Log what each request did as JSON lines with Upstash's event types.")
    var verbose = false

    @Option(
        name: .customLong("max-delivery-bytes"), parsing: .unconditional,
        help: "The largest delivery taken, in bytes: a delivery carries its run's whole log (at most 1 GiB); a request whose signature does not pass before its body is read takes at most 1 MiB.")
    var maxDeliveryBytes = 64 << 20

    func validate() throws {
        try ListenPort.check(port)
        guard (1...(1 << 30)).contains(maxDeliveryBytes) else { throw ValidationError("--max-delivery-bytes must be between 1 and 1073741824") }
    }

    @OptionGroup var connections: ConnectionOptions

    @OptionGroup var logging: LogOptions

    func run() async throws {
        // SIGHUP reads the workflows folder again once the server runs; until then it must not
        // stop the runner, as its default action would.
        signal(SIGHUP, SIG_IGN)
        try logging.bootstrap()
        ProcessMemory.limitArenas()
        let environment = ProcessInfo.processInfo.environment
        let folder = try ServeCommand.loadWorkflows(workflows)
        let kept: DefinitionVersions
        do {
            kept = try DefinitionVersions(folder: folder, keptIn: versions)
        } catch {
            throw CommandFailure.usage("cannot keep workflow versions in \(versions): \(error.localizedDescription)")
        }
        for warning in kept.runnerDifferences {
            Logger(label: "stepwise.runner").warning("\(warning)")
        }
        let connection = try orchestrator(environment)
        let keys = try signingKeys(environment)
        let http = AsyncHTTPTransport()
        // The orchestrator's token and signing keys are the runner's own, never a workflow's secret.
        let secrets = EnvironmentSecrets(environment.filter { !$0.key.hasPrefix("QSTASH_") })
        let write: (@Sendable (String) -> Void)? = verbose ? Self.printLine : nil
        let events = EndpointEventLog(write: write, clock: WorkflowEngine.systemTime)
        let endpoint = await WorkflowEndpoint.serving(
            kept, runner: WorkflowRunner(http: http, secrets: secrets, clock: WorkflowEngine.systemTime),
            qstash: QStashClient(connection: connection, http: http), signingKeys: keys, secrets: secrets, http: http, events: events,
            clock: WorkflowEngine.systemTime)
        let names = folder.definitions.keys.sorted().joined(separator: ", ")
        let base = baseURL ?? environment["UPSTASH_WORKFLOW_URL"]
        // Without a base URL the workflow URL comes from the request's Host, which anyone who can
        // reach a public address may forge to have a run's log delivered elsewhere.
        guard base != nil || ["127.0.0.1", "localhost", "::1"].contains(host) else {
            throw CommandFailure.usage("set --base-url (or UPSTASH_WORKFLOW_URL) to the runner's public URL when it listens on \(host)")
        }
        let signing = keys == nil ? "deliveries are not verified (no signing keys)" : "deliveries must be signed"
        let banner = "stepwise runner serving \(folder.definitions.count) workflow(s) [\(names)] on http://\(host):"
        let detail = " with \(connection); \(signing)"
        let server = RunnerServer(endpoint: endpoint, host: host, port: port, baseURL: base, limits: connections.limits(maximumMessageBytes: maxDeliveryBytes),
            reloading: (workflows, versions))
        try await ListenPort.serving(host: host, port: port) {
            try await server.run(shutdownTimeout: shutdownTimeout.duration, drainDelay: drain.drainDelay.duration) { port in
                logging.announce(banner + String(port) + detail)
            }
        }
    }

    @Sendable private static func printLine(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    private func orchestrator(_ environment: [String: String]) throws -> OrchestratorConnection {
        let url = qstashURL ?? environment["QSTASH_URL"] ?? "http://127.0.0.1:8080"
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
            throw CommandFailure.usage("the QStash URL must start with http:// or https://, got '\(OutgoingRequest.withoutUserInfo(url))'")
        }
        guard let token = qstashToken ?? environment["QSTASH_TOKEN"] ?? AccessToken.forClient(explicit: nil)?.value else {
            throw CommandFailure.usage("no QStash token: set QSTASH_TOKEN (or --qstash-token)")
        }
        // As the API token's: a line break in it would end the Authorization header early.
        guard !token.containsControlCharacter else {
            throw CommandFailure.usage("the QStash token holds a control character (a newline or a tab?); remove it")
        }
        return OrchestratorConnection(url: url, token: token)
    }

    /// Both keys, or none; one alone is a mistake worth stopping for.
    private func signingKeys(_ environment: [String: String]) throws -> SigningKeys? {
        let current = currentSigningKey ?? environment["QSTASH_CURRENT_SIGNING_KEY"]
        let next = nextSigningKey ?? environment["QSTASH_NEXT_SIGNING_KEY"]
        switch (current.flatMap { $0.isEmpty ? nil : $0 }, next.flatMap { $0.isEmpty ? nil : $0 }) {
        case (nil, nil): return nil
        case (let current?, let next?): return SigningKeys(current: SigningKey(current), next: SigningKey(next))
        default: throw CommandFailure.usage("set both QSTASH_CURRENT_SIGNING_KEY and QSTASH_NEXT_SIGNING_KEY, or neither")
        }
    }
}
