import Hummingbird
import ServiceLifecycle
import StepwiseEngine
import StepwiseExpressions

/// The change feed as Server-Sent Events: `GET /api/events` (every run's events on this node,
/// `?workflow=` to narrow) and `GET /api/runs/{id}/events` (one run: a `snapshot` of it first,
/// then its events, until a `finished` event ends the stream). A run's stream also re-reads the
/// run every second, so it ends (a second after it is seen ended) even if another node (or an SDK
/// endpoint) ran its last step. Comment lines keep idle connections open.
struct ChangeFeedController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// How often a run's stream re-reads the run, and how often an idle stream sends a comment.
    static let recheck = Duration.seconds(1)
    static let keepAlive = 15

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.get("api/events") { request, _ in allEvents(request) }
        router.get("api/runs/:id/events") { _, context in await runEvents(context) }
    }

    private func allEvents(_ request: Request) -> Response {
        let workflow = request.formParameters["workflow"].map(String.init)
        let events = engine.events.subscribe()
        return Self.stream { writer in
            for await signal in Self.signals(events) {
                switch signal {
                case .event(let event) where workflow == nil || event.workflow == workflow:
                    try await writer.write(Self.frame(event))
                case .event: continue
                case .tick(let count) where count % Self.keepAlive == 0:
                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                case .tick: continue
                }
            }
        }
    }

    private func runEvents(_ context: StepwiseRequestContext) async -> Response {
        let id = context.decoded("id") ?? ""
        // Subscribed before the snapshot is read: nothing between the two is missed.
        let events = engine.events.subscribe()
        let run: RunRecord
        do {
            guard let found = try await engine.store.run(id: id) else { return JSONResponse.error(.notFound, "no run with id '\(id)'") }
            run = found
        } catch {
            return failures.answer("cannot read run '\(id)'", error)
        }
        let store = await engine.store
        return Self.stream { writer in
            try await writer.write(ByteBuffer(string: "event: snapshot\ndata: \(RunView.summary(run).jsonText())\n\n"))
            guard !run.status.isFinal else { return }
            // A run seen ended in the store at one tick ends the stream at the next one, unless its
            // own `finished` event comes first: this node's last events may still be on their way.
            var ended: RunRecord?
            for await signal in Self.signals(events) {
                switch signal {
                case .event(let event) where event.runId == id:
                    try await writer.write(Self.frame(event))
                    if event.kind == .finished { return }
                case .event: continue
                case .tick(let count):
                    let now = try await store.run(id: id)
                    if let ended, let now, now.status.isFinal, now.updatedAt == ended.updatedAt {
                        let finished = RunEvent(kind: .finished, runId: id, workflow: now.workflow, status: now.status, at: now.updatedAt)
                        try await writer.write(Self.frame(finished))
                        return
                    }
                    // A run resumed from the DLQ meanwhile is running again: the stream goes on.
                    ended = now.flatMap { $0.status.isFinal ? $0 : nil }
                    if count % Self.keepAlive == 0 { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                }
            }
        }
    }

    /// What a stream reacts to: an event, or the n-th tick of its clock.
    enum Signal: Sendable {
        case event(RunEvent)
        case tick(Int)
    }

    /// `events` and a tick every `recheck`, in one sequence that ends when the consumer stops or
    /// the server shuts down (a followed feed would otherwise hold a stopping server open; a
    /// client sees the stream end without `finished` and reads the run again).
    private static func signals(_ events: AsyncStream<RunEvent>) -> AsyncStream<Signal> {
        let (signals, continuation) = AsyncStream<Signal>.makeStream(bufferingPolicy: .bufferingNewest(RunEventHub.buffer))
        let forward = Task {
            await withGracefulShutdownHandler {
                for await event in events { continuation.yield(.event(event)) }
            } onGracefulShutdown: {
                continuation.finish()
            }
        }
        let ticks = Task {
            var count = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: recheck)
                count += 1
                continuation.yield(.tick(count))
            }
        }
        continuation.onTermination = { _ in
            forward.cancel()
            ticks.cancel()
        }
        return signals
    }

    /// One event as an SSE frame: `event: <kind>` and its JSON.
    static func frame(_ event: RunEvent) -> ByteBuffer {
        var data = ValueMap([
            ("kind", .string(event.kind.rawValue)), ("workflowRunId", .string(event.runId)), ("status", .string(event.status.rawValue)),
            ("at", .string(event.at.description)),
        ])
        if let workflow = event.workflow { data[.string("workflow")] = .string(workflow) }
        if let step = event.step { data[.string("step")] = .string(step) }
        return ByteBuffer(string: "event: \(event.kind.rawValue)\ndata: \(Value.map(data).jsonText())\n\n")
    }

    /// A `text/event-stream` response whose body `write` produces.
    private static func stream(_ write: @escaping @Sendable (inout any ResponseBodyWriter) async throws -> Void) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/event-stream"
        headers[.cacheControl] = "no-store"
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            try await write(&writer)
            try await writer.finish(nil)
        })
    }
}
