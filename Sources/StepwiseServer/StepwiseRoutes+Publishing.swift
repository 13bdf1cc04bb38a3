import Hummingbird
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// QStash's publishing API: `POST /v2/publish/{destination}` and `POST /v2/batch`, through which
/// the Upstash SDKs start runs, append steps and make calls (reference/upstash-protocol.md §2.7).
extension StepwiseRoutes {
    func registerPublishing(on router: Router<BasicRequestContext>) {
        router.post("v2/publish/**") { request, _ in await self.publish(request) }
        router.post("v2/batch") { request, _ in await self.batch(request) }
        router.post("v2/wait/:eventId") { request, context in await self.wait(request, event: context.decoded("eventId") ?? "") }
    }

    /// `POST /v2/wait/{eventId}`: parks the SDK run named by `Upstash-Workflow-RunId` until a
    /// notify of the event or the wait's timeout.
    private func wait(_ request: Request, event: String) async -> Response {
        guard !event.isEmpty else { return JSONResponse.error(.badRequest, "the event id is missing from the path") }
        let body: [UInt8]
        switch await bodyBytes(request) {
        case .success(let bytes): body = bytes
        case .failure(let answer): return answer.response
        }
        do {
            switch try await engine.wait(event: event, headers: Self.headerFields(request), body: body) {
            case .success: return JSONResponse.make(.ok, ["eventId": .string(event)])
            case .failure(let refusal): return Self.refused(refusal)
            }
        } catch {
            return internalError("the wait on '\(event)' could not be stored", error)
        }
    }

    private func publish(_ request: Request) async -> Response {
        await parsing(request) { body throws(ProtocolError) in
            [try PublishedMessage(publishTarget: request.uri.string, headers: Self.headerFields(request), body: body)]
        } answer: { answers in
            answers[0].json
        }
    }

    private func batch(_ request: Request) async -> Response {
        await parsing(request) { body throws(ProtocolError) in
            let messages = try PublishedMessage.batch(jsonBytes: body)
            guard !messages.isEmpty else { throw ProtocolError("the batch is empty") }
            return messages
        } answer: { answers in
            .list(answers.map(\.json))
        }
    }

    /// Reads the body, parses the messages with `parse` (400 naming what is wrong) and publishes them.
    private func parsing(
        _ request: Request, _ parse: ([UInt8]) throws(ProtocolError) -> [PublishedMessage], answer: ([PublishAnswer]) -> Value
    ) async -> Response {
        let messages: [PublishedMessage]
        switch await bodyBytes(request) {
        case .failure(let refusal): return refusal.response
        case .success(let body):
            do {
                messages = try parse(body)
            } catch {
                return JSONResponse.error(.badRequest, error.message)
            }
        }
        return await store(messages, answer: answer)
    }

    /// Publishes `messages` and answers with `answer` of their `PublishAnswer`s, or `refused(_:)`.
    private func store(_ messages: [PublishedMessage], answer: ([PublishAnswer]) -> Value) async -> Response {
        let outcome: Result<[PublicationResult], PublishRefusal>
        do {
            outcome = try await engine.publish(messages)
        } catch {
            return internalError("the messages could not be stored", error)
        }
        switch outcome {
        case .failure(let refusal):
            return Self.refused(refusal)
        case .success(let results):
            let answers = zip(messages, results).map { message, result in
                switch result {
                case .deduplicated(let id): PublishAnswer(messageId: id, url: message.destination, deduplicated: true)
                case .stored(let id): PublishAnswer(messageId: id, url: message.destination)
                case .runEnded, .unknownRun: PublishAnswer(messageId: "", url: message.destination)
                }
            }
            return JSONResponse.make(.ok, answer(answers))
        }
    }

    /// The answer to a refused publish or wait: 400 when invalid or the run ended (then with
    /// QStash's text, which the JS SDK recognises), 404 when there is no such run.
    static func refused(_ refusal: PublishRefusal) -> Response {
        switch refusal {
        case .invalid(let error):
            return JSONResponse.error(.badRequest, error.message)
        case .unknownRun(let id):
            return JSONResponse.error(.notFound, "no workflow run with id '\(id)'")
        case .runEnded(let status):
            let rejection = AppendRejection(runState: status == .canceled ? "cancelled" : status == .failed ? "failed" : "finished")
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .badRequest, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: rejection.jsonBytes)))
        }
    }

    /// The request's headers in arrival order, original spelling.
    static func headerFields(_ request: Request) -> HeaderFields {
        HeaderFields(request.headers.map { ($0.name.rawName, $0.value) })
    }
}
