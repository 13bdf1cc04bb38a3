import Hummingbird
import HummingbirdCore
import Logging
import Prometheus
import ServiceLifecycle
import StepwiseEngine

/// `stepwise serve` as services: the HTTP application and the engine's delivery loop, run together
/// with graceful shutdown on SIGINT/SIGTERM (deliveries in flight finish first).
public struct StepwiseServer: Sendable {
    public let engine: WorkflowEngine
    public let host: String
    public let port: Int
    let access: APIAccess
    let limits: ConnectionLimits
    let trustedProxies: TrustedProxies
    let registry: PrometheusCollectorRegistry
    let workflowsFolder: String?
    let logger: Logger
    let shutdown = ShutdownNotice()

    /// A server for `engine` on `host:port`, admitting requests as `access` says and connections
    /// as `limits` says, taking the client a proxy of `trustedProxies` names as a request's caller,
    /// measuring into `registry` (served at `/metrics`; give the engine a factory of the same
    /// registry for its own measurements), reading `workflowsFolder` again on SIGHUP when given.
    public init(
        engine: WorkflowEngine, host: String, port: Int, access: APIAccess, limits: ConnectionLimits = ConnectionLimits(),
        trustedProxies: TrustedProxies = TrustedProxies(), registry: PrometheusCollectorRegistry = PrometheusCollectorRegistry(),
        workflowsFolder: String? = nil, logger: Logger = Logger(label: "stepwise")
    ) {
        self.workflowsFolder = workflowsFolder
        self.trustedProxies = trustedProxies
        self.registry = registry
        self.engine = engine
        self.host = host
        self.port = port
        self.access = access
        self.limits = limits
        self.logger = logger
    }

    /// The Hummingbird application serving the API; `onRunning` is called with the bound port.
    public func application(onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let router = Router(context: StepwiseRequestContext.self)
        router.add(middleware: RequestMetricsMiddleware(handles: MetricHandles(factory: DescribedMetricsFactory(registry: registry))))
        router.add(middleware: APIAccessMiddleware(access: access))
        router.add(middleware: EmptySegmentMiddleware())
        router.add(middleware: ControlCharacterMiddleware())
        router.add(middleware: UnmatchedRouteMiddleware())
        if trustedProxies != TrustedProxies() { router.add(middleware: ForwardedClientMiddleware(proxies: trustedProxies)) }
        StepwiseRoutes(engine: engine, registry: registry, access: access, logger: logger, maximumMessageBytes: limits.maximumMessageBytes, shutdown: shutdown)
            .register(on: router)
        let connections = GuardedConnections(limits)
        return Application(
            responder: HeadRequestResponder(router.buildResponder()),
            server: connections.server,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "stepwise",
                availableConnectionsDelegate: connections.count),
            services: [
                DeliveryService(engine: engine), MemoryTrimService(interval: .seconds(10)),
                WorkflowReloadService(folder: workflowsFolder, logger: logger) { [engine] in try await engine.reload(Array($0.definitions.values)) },
            ],
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }

    /// Runs until SIGINT or SIGTERM, then stops gracefully: `/ready` answers 503 for `drainDelay`
    /// while everything goes on, then the listener closes, change feeds end, requests and
    /// deliveries in flight finish. Requests still open `shutdownTimeout` plus 5 s later are
    /// cancelled (the engine leaves its deliveries at `shutdownTimeout` itself).
    public func run(
        shutdownTimeout: Duration = .seconds(30), drainDelay: Duration = .zero, onRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws {
        let drain = ShutdownDrain(notice: shutdown, delay: drainDelay, logger: logger)
        try await application(onRunning: onRunning).runService(stoppingWithin: shutdownTimeout + .seconds(5), drain: drain)
    }
}
