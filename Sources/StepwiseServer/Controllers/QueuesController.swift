import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's queues API as the official `qstash` clients call it: create or change a queue
/// (parallelism, paused), read and list queues with their lag, pause, resume and delete one.
/// Messages reach a queue through `POST /v2/enqueue/{queue}/{destination}` or a batch item's `queue`.
struct QueuesController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        let queues = router.group("v2/queues")
        queues.post { request, _ in await upsert(request) }
        queues.get { _, _ in await list() }
        queues.get(":name") { _, context in await queue(context.decoded("name") ?? "") }
        queues.delete(":name") { _, context in await delete(context.decoded("name") ?? "") }
        queues.post(":name/:action") { _, context in await setPaused(context.decoded("name") ?? "", action: context.decoded("action") ?? "") }
    }

    /// `{"queueName", "parallelism"?, "paused"?}`: parallelism 1 and not paused unless given.
    private func upsert(_ request: Request) async -> Response {
        let body: Value
        switch await RequestBody.json(request) {
        case .success(let value): body = value
        case .failure(let answer): return answer.response
        }
        let name: String, parallelism: Int, paused: Bool
        do throws(ProtocolError) {
            guard case .string(let given) = body["queueName"] else { throw ProtocolError("'queueName' must be a string") }
            name = try QStashName.validatedNew(given, as: "queue")
            switch body["parallelism"] {
            case nil, .null?: parallelism = NamedQueue.defaultParallelism
            case .int(let value)? where value >= 1 && value <= Int64(Int32.max): parallelism = Int(value)
            default: throw ProtocolError("'parallelism' must be a whole number from 1 to \(Int32.max)")
            }
            switch body["paused"] {
            case nil, .null?: paused = false
            case .bool(let value)?: paused = value
            default: throw ProtocolError("'paused' must be true or false")
            }
        } catch {
            return JSONResponse.error(.badRequest, error.message)
        }
        do {
            try await engine.upsertQueue(name, parallelism: parallelism, paused: paused)
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot store queue '\(name)'", error)
        }
    }

    private func list() async -> Response {
        do {
            return JSONResponse.make(.ok, .list(try await engine.store.namedQueues().map(Self.view)))
        } catch {
            return failures.answer("cannot list the queues", error)
        }
    }

    private func queue(_ name: String) async -> Response {
        do {
            guard let queue = try await engine.store.namedQueue(name) else { return Self.noQueue(name) }
            return JSONResponse.make(.ok, Self.view(queue))
        } catch {
            return failures.answer("cannot read queue '\(name)'", error)
        }
    }

    private func delete(_ name: String) async -> Response {
        do {
            guard try await engine.deleteQueue(name) else { return Self.noQueue(name) }
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot delete queue '\(name)'", error)
        }
    }

    private func setPaused(_ name: String, action: String) async -> Response {
        guard action == "pause" || action == "resume" else {
            return JSONResponse.error(.notFound, "no such route; a queue is paused and resumed at /v2/queues/{name}/pause and /resume")
        }
        do {
            guard try await engine.setQueuePaused(name, paused: action == "pause") else { return Self.noQueue(name) }
            return JSONResponse.make(.ok, [:])
        } catch {
            return failures.answer("cannot \(action) queue '\(name)'", error)
        }
    }

    private static func noQueue(_ name: String) -> Response {
        JSONResponse.error(.notFound, "no queue named '\(name)'")
    }

    /// A queue as QStash reports it; times in milliseconds since the epoch.
    static func view(_ queue: NamedQueue) -> Value {
        [
            "name": .string(queue.name), "parallelism": .int(Int64(queue.parallelism)), "createdAt": .int(queue.createdAt),
            "updatedAt": .int(queue.updatedAt), "lag": .int(Int64(queue.lag)), "paused": .bool(queue.paused),
        ]
    }
}
