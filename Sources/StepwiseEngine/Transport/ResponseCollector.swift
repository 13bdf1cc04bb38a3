import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import StepwiseRuntime
import Synchronization

/// Gathers one response on an event loop, so that the step's task resumes once per request, and
/// refuses a body past `limit` bytes as soon as it is announced or read. A HEAD
/// response and a 304 announce a length they do not send, so their `Content-Length` is no body.
final class ResponseCollector: HTTPClientResponseDelegate {
    typealias Response = IncomingResponse

    /// The body passed the limit; the request was aborted.
    struct TooLarge: Error {}

    private struct State {
        var head: HTTPResponseHead?
        var body: ByteBuffer?
    }

    private let limit: Int
    private let method: HTTPMethod
    private let state = Mutex(State())

    init(limit: Int, method: HTTPMethod) {
        self.limit = limit
        self.method = method
    }

    func didReceiveHead(task: HTTPClient.Task<Response>, _ head: HTTPResponseHead) -> EventLoopFuture<Void> {
        if method != .HEAD, head.status != .notModified, let announced = head.headers.first(name: "Content-Length").flatMap({ Int($0) }),
            announced > limit
        {
            return task.eventLoop.makeFailedFuture(TooLarge())
        }
        state.withLock { $0.head = head }
        return task.eventLoop.makeSucceededVoidFuture()
    }

    func didReceiveBodyPart(task: HTTPClient.Task<Response>, _ buffer: ByteBuffer) -> EventLoopFuture<Void> {
        let fits = state.withLock { state -> Bool in
            guard (state.body?.readableBytes ?? 0) + buffer.readableBytes <= limit else { return false }
            state.body.setOrWriteImmutableBuffer(buffer)
            return true
        }
        return fits ? task.eventLoop.makeSucceededVoidFuture() : task.eventLoop.makeFailedFuture(TooLarge())
    }

    func didFinishRequest(task: HTTPClient.Task<Response>) throws -> IncomingResponse {
        try state.withLock { state in
            guard let head = state.head else { throw HTTPClientError.remoteConnectionClosed }
            return IncomingResponse(
                status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) },
                body: state.body.map { Array(buffer: $0) } ?? [])
        }
    }
}
