import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StepwiseExpressions
import StepwiseRuntime

/// Sends `http` and `call` requests with AsyncHTTPClient, reading at most `maximumResponseBytes`
/// of a body. A request's deadline is its step's `timeout`, across redirects. Redirects are
/// followed here rather than by the client, so that headers carrying secrets never reach another
/// origin (`OutgoingRequest.redirected(status:location:)`).
public struct AsyncHTTPTransport: HTTPTransport {
    private let clients: [HTTPClient]
    private let maximumResponseBytes: Int

    /// The process's clients, one for each event loop of NIO's shared group, each keeping its
    /// connections on its loop (`client(for:)` says why). Unlike `HTTPClient.shared` they have no
    /// read timeout (90 s there): a `call` may wait hours for its answer, bounded by the request's
    /// own deadline. They follow no redirects themselves. Each keeps up to 256 connections per
    /// host instead of 8: the engine's `--concurrency` bounds the requests in flight, and runs
    /// calling one API must not queue behind eight connections.
    public static let processClients: [HTTPClient] = Array(HTTPClient.defaultEventLoopGroup.makeIterator()).map { loop in
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .enabled(limit: .ratio(25))
        configuration.redirectConfiguration = .disallow
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        return HTTPClient(eventLoopGroup: loop, configuration: configuration)
    }

    /// A transport over `clients` (`processClients` when empty; none of them may follow
    /// redirects itself), reading at most `maximumResponseBytes` of a body (at most 2^32 - 1, what
    /// a `ByteBuffer` holds).
    public init(clients: [HTTPClient] = AsyncHTTPTransport.processClients, maximumResponseBytes: Int = 10 << 20) {
        self.clients = clients.isEmpty ? Self.processClients : clients
        self.maximumResponseBytes = min(max(0, maximumResponseBytes), Int(UInt32.max))
    }

    /// A transport over the one client `client`, as `init(clients:maximumResponseBytes:)`.
    public init(client: HTTPClient, maximumResponseBytes: Int = 10 << 20) {
        self.init(clients: [client], maximumResponseBytes: maximumResponseBytes)
    }

    /// The client that sends the requests of `affinity` (`OutgoingRequest.affinity`): the same
    /// for every request of one key, any for a request without one. With one client per event
    /// loop a run's requests stay on one thread, connection and response alike; AsyncHTTPClient
    /// on a group of loops hands a response to another loop about every other request. Measured
    /// in BENCHMARKS.md: a seventh less CPU per sequential step, a quarter more steps per second.
    func client(for affinity: String?) -> HTTPClient {
        guard clients.count > 1 else { return clients[0] }
        guard let affinity else { return clients[Int.random(in: 0..<clients.count)] }
        var hasher = Hasher()
        hasher.combine(affinity)
        return clients[Int(UInt(bitPattern: hasher.finalize()) % UInt(clients.count))]
    }

    public func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(clamping: request.timeout.nanoseconds))
        var current = request
        for _ in 0...OutgoingRequest.maximumRedirects {
            let response = try await sendOnce(current, deadline: deadline, originalURL: request.url)
            guard let next = current.redirected(status: response.status, location: response.header("location")) else { return response }
            current = next
        }
        throw TransportFailure(.connection, "\(request.method) \(request.url) was redirected more than \(OutgoingRequest.maximumRedirects) times")
    }

    /// One request under `deadline` (its whole exchange, body included), gathered by a
    /// `ResponseCollector`; a canceled task cancels the request.
    private func sendOnce(_ request: OutgoingRequest, deadline: NIODeadline, originalURL: String) async throws(TransportFailure) -> IncomingResponse {
        guard let url = URL(string: request.url) else { throw TransportFailure(.invalidRequest, "invalid URL \(request.url)") }
        guard OutgoingRequest.isRequestable(url) else {
            throw TransportFailure(.invalidRequest, "invalid URL \(request.url): only http and https URLs are requested")
        }
        do {
            let outgoing = try HTTPClient.Request(
                url: url, method: HTTPMethod(rawValue: request.method),
                headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }), body: request.body.map { .bytes($0) })
            return try await execute(outgoing, on: client(for: request.affinity), deadline: deadline)
        } catch is ResponseCollector.TooLarge {
            throw TransportFailure(.responseTooLarge, "the response to \(request.method) \(request.url) is larger than \(maximumResponseBytes) bytes")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw TransportFailure(.timeout, "no complete response within \(request.timeout) from \(originalURL)")
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost {
            throw TransportFailure(.invalidRequest, "invalid URL \(request.url)")
        } catch {
            throw TransportFailure(.connection, "\(request.method) \(request.url) failed: \(error)")
        }
    }

    /// Executes `outgoing` from its client's event loop, entered once: started from another
    /// thread, AsyncHTTPClient enters the loop for every part of the start (its deadline, the
    /// pool, the connection, the result), each a wake-up of the loop's thread.
    private func execute(_ outgoing: HTTPClient.Request, on client: HTTPClient, deadline: NIODeadline) async throws -> IncomingResponse {
        let loop = client.eventLoopGroup.next()
        let collector = ResponseCollector(limit: maximumResponseBytes, method: outgoing.method)
        let cancellation = RequestCancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                loop.execute {
                    let task = client.execute(request: outgoing, delegate: collector, deadline: deadline)
                    cancellation.started(task)
                    task.futureResult.whenComplete { continuation.resume(with: $0) }
                }
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
