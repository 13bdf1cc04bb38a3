import Hummingbird
import HummingbirdCore
import Logging
import StepwiseRunner

/// `stepwise runner` as a service: the workflows of a folder served as Upstash Workflow endpoints
/// at `POST /workflows/{name}`, plus `GET /health` and `GET /ready`. It holds no data: its orchestrator (Stepwise's
/// engine or Upstash QStash) keeps the runs, and signatures, not a token, admit deliveries.
public struct RunnerServer: Sendable {
    let endpoint: WorkflowEndpoint
    let host: String
    let port: Int
    let baseURL: String?
    let limits: ConnectionLimits
    /// The folder read again on SIGHUP, and where its versions are kept; `nil`: no reload.
    let folders: (workflows: String, versions: String?)?
    let logger: Logger
    let shutdown = ShutdownNotice()
    /// The task registering the schedules, started once the server listens, again after a reload.
    private let registration = ScheduleRegistrationLoop()

    /// A runner serving `endpoint` on `host:port`, registered with its orchestrator as `baseURL`
    /// (`nil`: the address requests name in `Host`); on SIGHUP it serves `folders.workflows`
    /// anew, keeping its versions in `folders.versions`.
    public init(
        endpoint: WorkflowEndpoint, host: String, port: Int, baseURL: String?, limits: ConnectionLimits = ConnectionLimits(),
        reloading folders: (workflows: String, versions: String?)? = nil, logger: Logger = Logger(label: "stepwise-runner")
    ) {
        self.endpoint = endpoint
        self.host = host
        self.port = port
        self.baseURL = baseURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.limits = limits
        self.folders = folders
        self.logger = logger
    }

    /// The Hummingbird application; `onRunning` is called with the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: StepwiseRequestContext.self)
        router.add(middleware: UnmatchedRouteMiddleware())
        HealthController(shutdown: shutdown, dependency: nil, failures: FailureAnswer(logger: logger)).addRoutes(to: router)
        EndpointController(endpoint: endpoint, baseURL: baseURL, maximumDeliveryBytes: limits.maximumMessageBytes).addRoutes(to: router)
        let connections = GuardedConnections(limits)
        return Application(
            responder: HeadRequestResponder(router.buildResponder()),
            server: connections.server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "stepwise-runner",
                availableConnectionsDelegate: connections.count),
            services: [reloadService],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs until SIGINT or SIGTERM, then answers 503 at `/ready` for `drainDelay` while serving on,
    /// and lets the requests in flight finish for at most `shutdownTimeout` (the orchestrator
    /// delivers again what gets no answer). Once listening,
    /// it registers the workflows' schedules with its orchestrator, trying again (after 1 s,
    /// 2 s, … up to a minute) while it cannot.
    public func run(
        shutdownTimeout: Duration = .seconds(30), drainDelay: Duration = .zero, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        defer { registration.cancel() }
        try await application { port in
            await onRunning(port)
            registerSchedules(listeningOn: port)
        }.runService(stoppingWithin: shutdownTimeout, drain: ShutdownDrain(notice: shutdown, delay: drainDelay, logger: logger))
    }

    /// The reload of the workflows folder on SIGHUP: the versions of a folder that validates are
    /// served and kept, and the schedules registered anew (those of removed entries deleted).
    private var reloadService: WorkflowReloadService {
        WorkflowReloadService(folder: folders?.workflows, logger: logger) { [endpoint, folders] folder in
            let change = endpoint.reload(try DefinitionVersions(folder: folder, keptIn: folders?.versions))
            registerSchedules(listeningOn: nil)
            return change
        }
    }

    /// (Re)starts registering the schedules, on `port` once the server listens (`nil`: the port
    /// it listens on, if it does yet).
    private func registerSchedules(listeningOn port: Int?) {
        registration.restart(port: port) { port in await keepRegisteringSchedules(port: port) }
    }

    /// Registers the workflows' `schedule` entries with the orchestrator as schedules of the
    /// endpoints (at the base URL, or this server's address on `port`); how many there are.
    public func registerSchedules(port: Int) async throws(OrchestratorFailure) -> Int {
        let address = host.contains(":") ? "[\(host)]" : host
        return try await endpoint.registerSchedules(baseURL: baseURL ?? "http://\(address):\(port)")
    }

    private func keepRegisteringSchedules(port: Int) async {
        var pause = 1
        while !Task.isCancelled {
            do {
                let count = try await registerSchedules(port: port)
                if count > 0 { logger.info("registered \(count) schedule(s) with the orchestrator") }
                for entry in endpoint.schedulesSkippingOverlaps {
                    logger.warning("\(entry) has overlap: skip, which a QStash schedule cannot apply: its ticks start runs even while one is going")
                }
                return
            } catch {
                logger.error("the schedules could not be registered (\(error.message)); trying again in \(pause) s")
            }
            try? await Task.sleep(for: .seconds(pause))
            pause = min(60, pause * 2)
        }
    }
}
