import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's publishing API: `POST /v2/publish/{destination}`, `POST /v2/enqueue/{queue}/{destination}`
/// and `POST /v2/batch`, through which the Upstash SDKs start runs, append steps and make calls
/// (reference/upstash-protocol.md §2.7), and the `qstash` clients publish and enqueue messages;
/// and Upstash Workflow's REST triggers, `POST /v2/trigger/{workflowUrl}` and `POST /v2/batch/trigger`.
struct PublishingController: Sendable {
    let engine: WorkflowEngine
    let failures: FailureAnswer
    /// The largest message body accepted (`ConnectionLimits.maximumMessageBytes`).
    let maximumMessageBytes: Int

    /// Adds the routes to `router`.
    func addRoutes(to router: Router<StepwiseRequestContext>) {
        router.post("v2/publish/**") { request, context in
            await publish(request, from: context.callerIp) { body throws(ProtocolError) in
                try PublishedMessage(publishTarget: request.uri.string, headers: request.headerFields, body: body)
            }
        }
        router.post("v2/enqueue/**") { request, context in
            await publish(request, from: context.callerIp) { body throws(ProtocolError) in
                try PublishedMessage(enqueueTarget: request.uri.string, headers: request.headerFields, body: body)
            }
        }
        router.post("v2/batch") { request, context in await batch(request, from: context.callerIp) }
        router.post("v2/trigger/**") { request, context in
            await trigger(request, from: context.callerIp, isBatch: false) { body throws(ProtocolError) in
                [.init(workflowUrl: try WorkflowTrigger.workflowURL(target: request.uri.string), headers: request.headerFields, body: body)]
            }
        }
        router.post("v2/batch/trigger") { request, context in
            await trigger(request, from: context.callerIp, isBatch: true) { body throws(ProtocolError) in
                let items = try WorkflowTrigger.batch(jsonBytes: body)
                guard !items.isEmpty else { throw ProtocolError("the batch is empty") }
                return items.map { WorkflowEngine.TriggerRequest(workflowUrl: $0.workflowUrl, headers: $0.headers, body: $0.body) }
            }
        }
    }

    /// A REST trigger from the client at `callerIp`, its runs read by `parse`:
    /// `{workflowRunId, workflowCreatedAt}` (200), or for a batch one per item with
    /// `deduplicated` (201), as Upstash's API answers.
    private func trigger(
        _ request: Request, from callerIp: String?, isBatch: Bool, _ parse: ([UInt8]) throws(ProtocolError) -> [WorkflowEngine.TriggerRequest]
    ) async -> Response {
        var requests: [WorkflowEngine.TriggerRequest]
        switch await body(of: request, isBatch: isBatch, parsedBy: parse) {
        case .failure(let refusal): return refusal.response
        case .success(let parsed): requests = parsed
        }
        if let oversized = oversizedItem(requests.map(\.body.count)) { return oversized }
        for index in requests.indices { requests[index].callerIp = callerIp }
        do {
            switch try await engine.trigger(requests, isBatch: isBatch) {
            case .failure(let refusal): return ErrorAnswer.refused(refusal)
            case .success(let runs):
                let answers: [Value] = runs.map { run in
                    var fields: [(String, Value)] = [("workflowRunId", .string(run.runId))]
                    if let created = run.createdAt { fields.append(("workflowCreatedAt", .int(created.millisecondsSinceEpoch))) }
                    if isBatch { fields.append(("deduplicated", .bool(run.deduplicated))) }
                    return .map(ValueMap(fields))
                }
                return isBatch ? JSONResponse.make(.created, .list(answers)) : JSONResponse.make(.ok, answers[0])
            }
        } catch {
            return failures.answer("the runs could not be started", error)
        }
    }

    /// A single publish or enqueue, its message read by `parse`. A message deduplicated by its
    /// deduplication id or content is answered `202 Accepted`, as QStash does; other answers are
    /// `200`. A message to a URL group is answered with a list, one entry per endpoint (`202`
    /// when every copy was deduplicated).
    private func publish(
        _ request: Request, from callerIp: String?, _ parse: @escaping ([UInt8]) throws(ProtocolError) -> PublishedMessage
    ) async -> Response {
        await parsing(request, from: callerIp, isBatch: false) { body throws(ProtocolError) in
            [try parse(body)]
        } answer: { messages, answers in
            let duplicate = answers[0].each.allSatisfy { $0.deduplicated == true } && MessageDeduplication.isRequested(by: messages[0])
            return (duplicate ? .accepted : .ok, answers[0].json)
        }
    }

    private func batch(_ request: Request, from callerIp: String?) async -> Response {
        await parsing(request, from: callerIp, isBatch: true) { body throws(ProtocolError) in
            let messages = try PublishedMessage.batch(jsonBytes: body)
            guard !messages.isEmpty else { throw ProtocolError("the batch is empty") }
            return messages
        } answer: { _, answers in
            (.ok, .list(answers.map(\.json)))
        }
    }

    /// How large a batch's request may be: each item's body is bounded by `maximumMessageBytes`,
    /// but inside the batch it is a JSON string, escaped (the Upstash SDKs write a step's result
    /// escaped twice), so the batch gets four times that room, up to 100 MiB.
    private var maximumBatchBytes: Int { max(maximumMessageBytes, min(4 * maximumMessageBytes, 100 << 20)) }

    /// 413 naming the first item of a batch whose body (of `sizes`) is larger than a message's may be.
    private func oversizedItem(_ sizes: [Int]) -> Response? {
        guard let index = sizes.firstIndex(where: { $0 > maximumMessageBytes }) else { return nil }
        return JSONResponse.error(.contentTooLarge, "item \(index) of the batch: its body is larger than \(maximumMessageBytes) bytes")
    }

    /// The body of `request` (a message's, or a batch's) read by `parse`; the answer instead when
    /// it cannot be read (400 naming what is wrong).
    private func body<T>(of request: Request, isBatch: Bool, parsedBy parse: ([UInt8]) throws(ProtocolError) -> T) async -> Result<T, ErrorAnswer> {
        switch await RequestBody.bytes(request, upTo: isBatch ? maximumBatchBytes : maximumMessageBytes) {
        case .failure(let refusal): return .failure(refusal)
        case .success(let body):
            do {
                return .success(try parse(body))
            } catch {
                return .failure(ErrorAnswer(.badRequest, error.message))
            }
        }
    }

    /// Reads the body, parses the messages with `parse` (400 naming what is wrong) and publishes
    /// them as the client at `callerIp`'s; a refusal of a batch's message names its item.
    private func parsing(
        _ request: Request, from callerIp: String?, isBatch: Bool, _ parse: ([UInt8]) throws(ProtocolError) -> [PublishedMessage],
        answer: PublishAnswering
    ) async -> Response {
        var messages: [PublishedMessage]
        switch await body(of: request, isBatch: isBatch, parsedBy: { body throws(ProtocolError) in
            try Self.creatingOnlyReachableQueues(try parse(body), isBatch: isBatch)
        }) {
        case .failure(let refusal): return refusal.response
        case .success(let parsed): messages = parsed
        }
        if let oversized = oversizedItem(messages.map { $0.body?.count ?? 0 }) { return oversized }
        for index in messages.indices { messages[index].callerIp = callerIp }
        return await store(messages, isBatch: isBatch, answer: answer)
    }

    /// `messages`, whose queues an enqueue creates when they do not exist yet: each must be a
    /// name a new queue may take (`QStashName.validatedNew`).
    private static func creatingOnlyReachableQueues(_ messages: [PublishedMessage], isBatch: Bool) throws(ProtocolError) -> [PublishedMessage] {
        for (index, message) in messages.enumerated() {
            guard let queue = message.queue else { continue }
            do {
                _ = try QStashName.validatedNew(queue, as: "queue")
            } catch {
                throw isBatch ? error.located("batch item \(index)") : error
            }
        }
        return messages
    }

    /// How a request's messages and their answers are answered: a status and a body.
    private typealias PublishAnswering = ([PublishedMessage], [MessageAnswer]) -> (HTTPResponse.Status, Value)

    /// What one published message is answered with: its `PublishAnswer`, or one per endpoint of
    /// the URL group it was sent to.
    enum MessageAnswer {
        case one(PublishAnswer)
        case group([PublishAnswer])

        var json: Value {
            switch self {
            case .one(let answer): answer.json
            case .group(let answers): .list(answers.map(\.json))
            }
        }

        /// The answer of each message stored: one, or one per endpoint.
        var each: [PublishAnswer] {
            switch self {
            case .one(let answer): [answer]
            case .group(let answers): answers
            }
        }
    }

    /// Publishes `messages` (a message to a URL group as one per endpoint) and answers with
    /// `answer` of their answers, or `refused(_:)`; `isBatch` makes a refusal name the batch item.
    private func store(_ messages: [PublishedMessage], isBatch: Bool, answer: PublishAnswering) async -> Response {
        let expanded: [[PublishedMessage]]
        let outcome: Result<[PublicationResult], PublishRefusal>
        do {
            switch try await engine.expandingURLGroups(messages) {
            case .failure(let refusal): return ErrorAnswer.refused(refusal)
            case .success(let copies): expanded = copies
            }
            let items = expanded.enumerated().flatMap { item, copies in copies.map { _ in item } }
            outcome = try await engine.publish(expanded.flatMap { $0 }, batchItems: isBatch ? items : nil)
        } catch {
            return failures.answer("the messages could not be stored", error)
        }
        switch outcome {
        case .failure(let refusal):
            return ErrorAnswer.refused(refusal)
        case .success(let results):
            var remaining = zip(expanded.flatMap { $0 }, results).map { message, result in
                switch result {
                case .deduplicated(let id): PublishAnswer(messageId: id, url: message.destination, deduplicated: true)
                case .stored(let id), .redelivered(let id): PublishAnswer(messageId: id, url: message.destination)
                case .runEnded, .unknownRun, .runIdTaken, .runInProgress, .yamlRun, .invokeTooDeep: PublishAnswer(messageId: "", url: message.destination)
                }
            }[...]
            let answers = zip(messages, expanded).map { message, copies -> MessageAnswer in
                let own = Array(remaining.prefix(copies.count))
                remaining = remaining.dropFirst(copies.count)
                return message.isToURLGroup ? .group(own) : .one(own[0])
            }
            let (status, body) = answer(messages, answers)
            return JSONResponse.make(status, body)
        }
    }
}
