import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// What the counting server answers to one request.
public struct ScriptedResponse: Sendable {
    public var status: Int
    public var body: String
    public var contentType: String
    /// How long the server waits before answering.
    public var delay: Duration?
    /// More header fields of the answer (a redirect's `Location`).
    public var headers: [(name: String, value: String)]
    /// How long the server waits between the first half of the body and the rest (a body that
    /// trickles); the head and the first half go out at once.
    public var pauseInBody: Duration?
    /// Sends the body in two chunks without announcing its length (`Transfer-Encoding: chunked`).
    public var chunked: Bool
    /// Bytes sent instead of `body`, for bodies that are not UTF-8 text.
    public var rawBody: [UInt8]?

    /// An answer with the given parts (by default `200 {"ok": true}`).
    public init(
        status: Int = 200, body: String = #"{"ok": true}"#, contentType: String = "application/json", delay: Duration? = nil,
        headers: [(name: String, value: String)] = [], pauseInBody: Duration? = nil, chunked: Bool = false
    ) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.delay = delay
        self.headers = headers
        self.pauseInBody = pauseInBody
        self.chunked = chunked
    }

    /// A redirect with `status` to `location`.
    public static func redirect(_ status: Int = 302, to location: String) -> ScriptedResponse {
        ScriptedResponse(status: status, body: "", contentType: "text/plain", headers: [("Location", location)])
    }

    /// A JSON answer.
    public static func json(_ body: String, status: Int = 200, delay: Duration? = nil) -> ScriptedResponse {
        ScriptedResponse(status: status, body: body, delay: delay)
    }

    /// An answer whose body is `bytes`, UTF-8 or not.
    public static func bytes(_ bytes: [UInt8], status: Int = 200, contentType: String) -> ScriptedResponse {
        var response = ScriptedResponse(status: status, body: "", contentType: contentType)
        response.rawBody = bytes
        return response
    }

    /// An answer with `status` and a short JSON body.
    public static func status(_ status: Int) -> ScriptedResponse {
        ScriptedResponse(status: status, body: #"{"status": \#(status)}"#)
    }
}

/// A request the counting server received.
public struct ReceivedRequest: Sendable {
    public var method: String
    public var path: String
    public var query: String
    /// Header values by lowercased name (the last one wins).
    public var headers: [String: String]
    public var body: String
    public var receivedAt: Date

    /// The value of header `name` (any case).
    public func header(_ name: String) -> String? { headers[name.lowercased()] }
}

/// A small HTTP server on 127.0.0.1 (Hummingbird, real sockets) that records every request and
/// answers from per-path scripts: each path has a queue of responses consumed in order, then a
/// fallback (by default `200 {"ok": true}`).
public final class CountingServer: Sendable {
    private struct State {
        public var queues: [String: [ScriptedResponse]] = [:]
        public var fallbacks: [String: ScriptedResponse] = [:]
        public var handlers: [String: @Sendable (ReceivedRequest) async -> ScriptedResponse] = [:]
        public var requests: [ReceivedRequest] = []
    }

    private let state = Mutex(State())
    private let listeningPort = Mutex(0)

    /// The port the server listens on.
    public var port: Int { listeningPort.withLock { $0 } }

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Queues `responses` for the next requests to `path`.
    public func script(_ path: String, _ responses: ScriptedResponse...) {
        state.withLock { $0.queues[path, default: []].append(contentsOf: responses) }
    }

    /// The answer to `path` once its queue is empty.
    public func fallback(_ path: String, _ response: ScriptedResponse) {
        state.withLock { $0.fallbacks[path] = response }
    }

    /// The requests received so far, oldest first; only those to `path` when given.
    public func requests(to path: String? = nil) -> [ReceivedRequest] {
        state.withLock { state in state.requests.filter { path == nil || $0.path == path } }
    }

    /// Answers requests to `path` with `handler` (after any scripted answers are used up): an
    /// endpoint that acts, such as an emulated Upstash SDK calling back into Stepwise.
    public func handle(_ path: String, _ handler: @escaping @Sendable (ReceivedRequest) async -> ScriptedResponse) {
        state.withLock { $0.handlers[path] = handler }
    }

    /// Holds every request to `path` until the returned function is called (or the request is
    /// cancelled), then answers `{}`: a step that waits for the test (to connect a stream, to
    /// send an event first) however slowly the machine runs.
    public func gate(_ path: String) -> @Sendable () -> Void {
        let opened = Mutex(false)
        handle(path) { _ in
            while !opened.withLock({ $0 }), !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
            }
            return .json("{}")
        }
        return { opened.withLock { $0 = true } }
    }

    private func respond(_ request: ReceivedRequest) async -> ScriptedResponse {
        let handler = state.withLock { state -> (@Sendable (ReceivedRequest) async -> ScriptedResponse)? in
            guard let handler = state.handlers[request.path], state.queues[request.path]?.isEmpty ?? true else { return nil }
            state.requests.append(request)
            return handler
        }
        if let handler { return await handler(request) }
        return answer(request)
    }

    private func answer(_ request: ReceivedRequest) -> ScriptedResponse {
        state.withLock { state in
            state.requests.append(request)
            if var queue = state.queues[request.path], !queue.isEmpty {
                let next = queue.removeFirst()
                state.queues[request.path] = queue
                return next
            }
            return state.fallbacks[request.path] ?? ScriptedResponse()
        }
    }

    /// Starts a server, runs `body` with it, and stops it (also when `body` throws).
    public static func with<T>(_ body: (CountingServer) async throws -> T) async throws -> T {
        let server = CountingServer()
        return try await withApplication("the counting server", server.application(onRunning:)) { port in
            server.listeningPort.withLock { $0 = port }
            return try await body(server)
        }
    }

    private func application(onRunning: @escaping @Sendable (Int) async -> Void) -> some ApplicationProtocol {
        let responder = CallbackResponder<BasicRequestContext> { [self] request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            var headers: [String: String] = [:]
            for field in request.headers { headers[field.name.canonicalName] = field.value }
            let received = ReceivedRequest(
                method: request.method.rawValue, path: request.uri.path, query: request.uri.query ?? "", headers: headers,
                body: String(buffer: body), receivedAt: Date())
            let scripted = await self.respond(received)
            if let delay = scripted.delay { try await Task.sleep(for: delay) }
            var fields = HTTPFields()
            fields[.contentType] = scripted.contentType
            for header in scripted.headers {
                if let name = HTTPField.Name(header.name) { fields.append(HTTPField(name: name, value: header.value)) }
            }
            let status = HTTPResponse.Status(code: scripted.status)
            guard scripted.pauseInBody != nil || scripted.chunked else {
                return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: scripted.rawBody ?? Array(scripted.body.utf8))))
            }
            let bytes = scripted.rawBody ?? Array(scripted.body.utf8)
            if !scripted.chunked { fields[.contentLength] = String(bytes.count) }
            return Response(
                status: status, headers: fields,
                body: ResponseBody { writer in
                    try await writer.write(ByteBuffer(bytes: bytes.prefix(bytes.count / 2)))
                    if let pause = scripted.pauseInBody { try await Task.sleep(for: pause) }
                    try await writer.write(ByteBuffer(bytes: bytes.suffix(from: bytes.count / 2)))
                    try await writer.finish(nil)
                })
        }
        return Application(
            responder: responder,
            configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "counting-server"),
            onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? 0) },
            logger: silentLogger)
    }
}
