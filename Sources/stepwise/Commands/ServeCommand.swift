import ArgumentParser
import Foundation
import Logging
import Prometheus
import StepwiseEngine
import StepwiseLanguage
import StepwiseRuntime
import StepwiseServer

/// `stepwise serve`: the engine, the runner and the API in one process, on SQLite by default.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the engine and the runner for a folder of workflows.",
        discussion: "Refuses to start when a workflow has errors. Stops gracefully on SIGINT or SIGTERM."
    )

    @Option(name: .long, help: "The folder of workflow files (default: workflows, served when it exists; a folder given here must exist).")
    var workflows: String?

    @Flag(name: .customLong("no-runner"), help: "Serve the engine only: no workflows run in this process (runners and SDK endpoints elsewhere use it as their QStash).")
    var noRunner = false

    @Option(name: .long, help: "Where runs are stored: sqlite:PATH, or postgres://user:password@host:port/database for several nodes sharing one database (default: $STEPWISE_STORE, else sqlite:.stepwise/stepwise.db).")
    var store: String?

    @Option(
        name: .customLong("store-wait"), parsing: .unconditional,
        help: "How long a request waits for a PostgreSQL connection before it is answered 503 with Retry-After (the database is down, or every connection stays busy); the delivery loop retries on its own.")
    var storeWait = DurationArgument("10s", .seconds(10))

    @Option(
        name: .customLong("shutdown-timeout"), parsing: .unconditional,
        help: "On SIGTERM or SIGINT, how long to wait for deliveries in flight (a slow http step) before exiting without them: they stay leased and are delivered again, at once by a restart on this host. Keep it below your orchestrator's kill timeout.")
    var shutdownTimeout = DurationArgument("30s", .seconds(30))

    @OptionGroup var drain: DrainOption

    @Option(name: .long, help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(name: .long, parsing: .unconditional, help: "The port to listen on (0 picks a free one).")
    var port = 8080

    @Option(name: .long, parsing: .unconditional, help: "Deliveries in flight at once: steps, calls, timers and QStash messages (a workflow's concurrency and flow-control keys limit its runs further).")
    var concurrency = WorkflowEngine.Configuration.defaultConcurrentDeliveries

    @Option(name: .customLong("node-id"), help: "This node's name in leases and logs (default: $STEPWISE_NODE_ID, else the host name); each process is told apart from others of the same name.")
    var nodeId: String?

    @Option(name: .long, parsing: .unconditional, help: "How long a claimed delivery is reserved for this node; it renews its leases every quarter of this, and gives up a delivery whose lease went unrenewed this long (the store out of reach); another node takes over a dead node's work a sixth of this later (at once when it restarts on the same host).")
    var lease = DurationArgument("60s", .seconds(60))

    @Option(
        name: .customLong("sleep-lookahead"), parsing: .unconditional,
        help: "How long before a sleep ends its end may be recorded, so that many sleeps ending together cost only their next steps then; the next step never runs before the end (0s: each sleep's end is recorded when it comes).")
    var sleepLookahead = DurationArgument("500ms", .milliseconds(500))

    @Option(
        name: .customLong("run-retention"), parsing: .unconditional,
        help: "Delete runs that ended (succeeded, failed, canceled) longer ago than this, with their journals, attempts and DLQ entries; at least 1h (default: keep every run).")
    var runRetention: DurationArgument?

    @Option(
        name: .customLong("retry-delay-scale"), parsing: .unconditional,
        help: "Multiply every retry delay by this factor: of workflow steps, of queued messages and of messages the engine could not process (a store error) (tests and local development: 0.01 turns QStash's 12 s + 148 s into 0.12 s + 1.48 s).")
    var retryDelayScale = 1.0

    @Option(name: .long, help: "The API token clients must send as a bearer token, and every node sharing the store (default: $STEPWISE_TOKEN, else .stepwise/token, else the token another node stored, else a new .stepwise/token).")
    var token: String?

    @Option(name: .customLong("allowed-host"), help: "Another host name to answer to when bound to loopback (behind a proxy); repeatable.")
    var allowedHosts: [String] = []

    @Option(
        name: .customLong("trusted-proxy"),
        help: "A reverse proxy in front (an address or a CIDR range: 10.0.0.0/8, ::1) whose X-Forwarded-For names the client that QStash's callerIp records; repeatable (default: none, the connection's peer is the caller).")
    var trustedProxies: [String] = []

    @OptionGroup var connections: ConnectionOptions

    @Option(
        name: .customLong("max-message-bytes"), parsing: .unconditional,
        help: "The largest body of a QStash publish, enqueue, batch item (a batch may be four times as large), trigger, schedule, notify or a run's end, in bytes (QStash's plans allow 1 MiB to 100 MiB, the most taken here); what a message's destination answers may be three times as large, at least 10 MiB.")
    var maxMessageBytes = ConnectionLimits().maximumMessageBytes

    @Option(
        name: .customLong("lazy-fetch-bytes"), parsing: .unconditional,
        help: "Send a step delivery or a call's callback larger than this many bytes empty to an SDK that then reads its run's log itself (QStash's lazy fetch: the JS SDK 1.x; the Python SDK and a REST trigger's first delivery always get the body); 0 turns lazy fetch off.")
    var lazyFetchBytes = LazyFetch.upstashThreshold

    @OptionGroup var logging: LogOptions

    func validate() throws {
        try ListenPort.check(port)
        try AccessToken.checkGiven(explicit: token)
        guard concurrency > 0 else { throw ValidationError("--concurrency must be at least 1") }
        if noRunner, let workflows {
            throw ValidationError("--no-runner serves no workflows, so --workflows \(workflows) would be ignored: leave one of them out")
        }
        guard storeWait.duration >= .milliseconds(100) else { throw ValidationError("--store-wait must be at least 100ms") }
        guard lazyFetchBytes >= 0 else { throw ValidationError("--lazy-fetch-bytes must be a number of bytes, or 0 to turn lazy fetch off") }
        guard (1...(100 << 20)).contains(maxMessageBytes) else { throw ValidationError("--max-message-bytes must be between 1 and 104857600 (100 MiB)") }
        do {
            _ = try TrustedProxies(trustedProxies)
        } catch {
            throw ValidationError("--trusted-proxy \(error)")
        }
        // Shorter is more likely a slip (`30s` for `30d`) than a wish to lose runs before anyone read them.
        guard runRetention.map({ $0.duration >= .seconds(3_600) }) ?? true else { throw ValidationError("--run-retention must be at least 1h") }
    }

    func run() async throws {
        // SIGHUP reads the workflows folder again once the server runs; until then (the store
        // opening, its migration) it must not stop the process, as its default action would.
        signal(SIGHUP, SIG_IGN)
        try logging.bootstrap()
        ProcessMemory.limitArenas()
        let folder = try loadWorkflows()
        let (store, closeStore) = try await StoreLocation(option: store).open(connectionWait: storeWait.duration)
        do {
            try await serve(folder, store: store)
            await closeStore()
        } catch {
            await closeStore()
            throw error
        }
    }

    private func serve(_ folder: WorkflowFolder, store: any Store) async throws {
        // One registry for the engine's and the server's measurements, served at /metrics.
        let registry = PrometheusCollectorRegistry()
        let engine = try await makeEngine(folder, store: store, metrics: EngineMetrics(factory: DescribedMetricsFactory(registry: registry)))
        let node = try nodeName()
        let token = try await AccessToken.forServer(explicit: token, node: node, store: store)
        // Followed in the store: a node started with a new --token rotates it for every node.
        let current = CurrentToken(token.token) {
            try await store.apiToken(storing: nil, node: node, replacing: false).map { SharedToken(digest: $0.digest) }
        }
        let access = APIAccess(token: current, boundHost: host, extraHosts: allowedHosts)
        let names = folder.definitions.keys.sorted().joined(separator: ", ")
        let limits = connections.limits(maximumMessageBytes: maxMessageBytes)
        let proxies = try TrustedProxies(trustedProxies)
        let server = StepwiseServer(
            engine: engine, host: host, port: port, access: access, limits: limits, trustedProxies: proxies, registry: registry,
            workflowsFolder: servedFolder)
        try await ListenPort.serving(host: host, port: port) {
            try await server.run(shutdownTimeout: shutdownTimeout.duration, drainDelay: drain.drainDelay.duration) { port in
                logging.announce(
                    "stepwise serving \(folder.definitions.count) workflow(s) [\(names)] on http://\(host):\(port) (API token from \(token.source))")
            }
        }
    }

    /// The folder served when `--workflows` is not given.
    static let defaultFolder = "workflows"

    /// The folder served (and read again on SIGHUP): none with `--no-runner`, or when the default
    /// folder does not exist (the engine alone, for runners and SDK endpoints elsewhere).
    private var servedFolder: String? {
        guard !noRunner else { return nil }
        // A folder named on the command line is meant to be served: its absence is a mistake.
        if let workflows { return workflows }
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: Self.defaultFolder, isDirectory: &isFolder), isFolder.boolValue else { return nil }
        return Self.defaultFolder
    }

    /// The workflows to serve: the served folder's, all valid, or none.
    private func loadWorkflows() throws -> WorkflowFolder {
        guard let folder = servedFolder else {
            if !noRunner {
                Logger(label: "stepwise").notice("no workflows folder at \(Self.defaultFolder): serving the engine only")
            }
            return WorkflowFolder(sources: [])
        }
        return try Self.loadWorkflows(folder)
    }

    /// The workflows of `path`; refuses a folder with errors, printing them.
    static func loadWorkflows(_ path: String) throws -> WorkflowFolder {
        let folder: WorkflowFolder
        do {
            folder = try WorkflowFolder(path: path)
        } catch {
            throw CommandFailure.usage("\(error)")
        }
        guard !folder.hasErrors else {
            FileHandle.standardError.write(Data(folder.diagnosticsText.utf8))
            throw CommandFailure.failed("not starting: fix the errors in \(path) first")
        }
        return folder
    }

    private func makeEngine(_ folder: WorkflowFolder, store: any Store, metrics: EngineMetrics) async throws -> WorkflowEngine {
        guard retryDelayScale >= 0, retryDelayScale.isFinite else { throw CommandFailure.usage("--retry-delay-scale must be a number ≥ 0") }
        let runner = WorkflowRunner(
            http: AsyncHTTPTransport(), secrets: EnvironmentSecrets(ProcessInfo.processInfo.environment), retryDelayScale: retryDelayScale,
            clock: WorkflowEngine.systemTime)
        let node = try nodeName()
        guard lease.duration >= .seconds(3) else { throw CommandFailure.usage("--lease must be at least 3s") }
        let configuration = WorkflowEngine.Configuration(
            maximumConcurrentDeliveries: concurrency, lease: lease.duration, retryDelayScale: retryDelayScale,
            sleepLookahead: sleepLookahead.duration, runRetention: runRetention?.duration,
            lazyFetch: lazyFetchBytes == 0 ? nil : LazyFetch(threshold: lazyFetchBytes), shutdownTimeout: shutdownTimeout.duration)
        // What a queued message's destination answers may be as large as a message may: an SDK's
        // answer to a step that failed with a large error holds it twice (message and stack).
        // YAML `call` steps keep the engine's own transport and its documented 10 MiB.
        let answers = AsyncHTTPTransport(clients: AsyncHTTPTransport.deliveryClients, maximumResponseBytes: max(10 << 20, 3 * maxMessageBytes))
        let target = HTTPDeliveryTarget(transport: answers, defaultTimeout: configuration.deliveryTimeoutMilliseconds, clock: WorkflowEngine.systemTime)
        let engine = WorkflowEngine(
            store: store, runner: runner, target: target, owner: LeaseOwner.current(node: node).description, configuration: configuration,
            metrics: metrics)
        try await engine.install(Array(folder.definitions.values))
        return engine
    }
}

extension ServeCommand {
    /// This node's name: `--node-id`, else `STEPWISE_NODE_ID`, else the host name.
    func nodeName() throws -> String {
        let node = nodeId ?? ProcessInfo.processInfo.environment["STEPWISE_NODE_ID"]
        guard node.map({ !$0.isEmpty && !$0.contains(where: \.isWhitespace) }) ?? true else {
            throw CommandFailure.usage("--node-id must be a non-empty name without spaces")
        }
        return node ?? LeaseOwner.current().node
    }
}
