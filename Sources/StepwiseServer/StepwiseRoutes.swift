import Hummingbird
import Logging
import Prometheus
import StepwiseEngine

/// The HTTP API of `stepwise serve`, one controller per concern: health and readiness, the runner endpoint
/// (`POST /workflows/{name}`), Stepwise's read API (`/api/runs`), and the QStash API (publishing,
/// runs, events, DLQ, schedules, signing keys, flow control, queues, URL groups, messages). Every error is a JSON body with a message for
/// people; failures of the store answer 500 (503 while it is unavailable) with a log reference, never the store's text.
public struct StepwiseRoutes: Sendable {
    /// The largest request body accepted by routes that take no message (the message routes, a
    /// run's end, notify and wait take `ConnectionLimits.maximumMessageBytes`, this by default).
    public static let maximumBodyBytes = RequestBody.maximumBytes

    let engine: WorkflowEngine
    let registry: PrometheusCollectorRegistry
    let access: APIAccess
    let failures: FailureAnswer
    let maximumMessageBytes: Int
    let shutdown: ShutdownNotice

    /// Routes over `engine`, with `/metrics` from `registry` and the dashboard signing in with
    /// `access`'s token, publishing messages of up to `maximumMessageBytes`, `/ready` refusing once
    /// `shutdown` has begun; failures the client cannot act on are logged to `logger`.
    public init(
        engine: WorkflowEngine, registry: PrometheusCollectorRegistry, access: APIAccess, logger: Logger,
        maximumMessageBytes: Int = StepwiseRoutes.maximumBodyBytes, shutdown: ShutdownNotice = ShutdownNotice()
    ) {
        self.shutdown = shutdown
        self.maximumMessageBytes = maximumMessageBytes
        self.engine = engine
        self.registry = registry
        self.access = access
        failures = FailureAnswer(logger: logger)
    }

    /// Adds the routes to `router`.
    public func register(on router: Router<StepwiseRequestContext>) {
        HealthController(shutdown: shutdown, dependency: { [engine] in try await engine.store.checkAvailable() }, failures: failures).addRoutes(to: router)
        RunnerController(engine: engine, failures: failures).addRoutes(to: router)
        RunsController(engine: engine, failures: failures).addRoutes(to: router)
        PublishingController(engine: engine, failures: failures, maximumMessageBytes: maximumMessageBytes).addRoutes(to: router)
        WorkflowRunsController(engine: engine, failures: failures, maximumMessageBytes: maximumMessageBytes).addRoutes(to: router)
        WorkflowLogsController(engine: engine, failures: failures).addRoutes(to: router)
        EventsController(engine: engine, failures: failures, maximumMessageBytes: maximumMessageBytes).addRoutes(to: router)
        WebhookController(engine: engine, access: access, failures: failures).addRoutes(to: router)
        let workflowDeadLetters = DeadLetterController(engine: engine, failures: failures)
        workflowDeadLetters.addRoutes(to: router)
        SchedulesController(engine: engine, failures: failures, maximumMessageBytes: maximumMessageBytes).addRoutes(to: router)
        SigningKeysController(engine: engine, failures: failures).addRoutes(to: router)
        FlowControlController(engine: engine, failures: failures).addRoutes(to: router)
        QueuesController(engine: engine, failures: failures).addRoutes(to: router)
        URLGroupsController(engine: engine, failures: failures).addRoutes(to: router)
        MessagesController(engine: engine, failures: failures).addRoutes(to: router)
        MessageDeadLetterController(engine: engine, failures: failures, workflowDeadLetters: workflowDeadLetters).addRoutes(to: router)
        MessageEventsController(engine: engine, failures: failures).addRoutes(to: router)
        MetricsController(engine: engine, registry: registry, failures: failures).addRoutes(to: router)
        ChangeFeedController(engine: engine, failures: failures).addRoutes(to: router)
        DashboardController(engine: engine, access: access, sessions: access.sessions, failures: failures).addRoutes(to: router)
    }
}
