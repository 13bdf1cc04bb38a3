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
    /// connections on its loop (`execute(_:on:deadline:)` says why); a request goes through any
    /// of them. Unlike `HTTPClient.shared` they have no read timeout (90 s there): a `call` may
    /// wait hours for its answer, bounded by the request's own deadline. They follow no redirects
    /// themselves. Each keeps up to 256 connections per host instead of 8 (so the process up to
    /// 256 per loop): the engine's `--concurrency` bounds the requests in flight, and runs calling
    /// one API must not queue behind eight connections. A connection that cannot be made is
    /// tried again with AsyncHTTPClient's backoff until the connect timeout (10 s), so a server
    /// restarting meanwhile is reached: what `http` steps and `stepwise runner`'s calls to its
    /// engine need.
    public static let processClients: [HTTPClient] = clients(retryingConnections: true)

    /// `processClients`, except that a connection that cannot be made (a refused port, an
    /// unknown host) fails its request at once, with every request queued for that host on that
    /// client: for the engine's own deliveries and calls, which it retries with QStash's backoff,
    /// so a destination that is down holds no delivery slot for the connect timeout per attempt.
    public static let deliveryClients: [HTTPClient] = clients(retryingConnections: false)

    private static func clients(retryingConnections: Bool) -> [HTTPClient] {
        Array(HTTPClient.defaultEventLoopGroup.makeIterator()).map { loop in
            var configuration = HTTPClient.Configuration()
            configuration.decompression = .enabled(limit: .ratio(25))
            configuration.redirectConfiguration = .disallow
            configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
            configuration.connectionPool.retryConnectionEstablishment = retryingConnections
            // Stepwise bootstraps no tracer: a span per request would be started and dropped.
            configuration.tracing.tracer = nil
            return HTTPClient(eventLoopGroup: loop, configuration: configuration)
        }
    }

    /// A transport over `clients` (`processClients` when empty; none of them may follow
    /// redirects itself, and their event loops must outlive the transport), reading at most
    /// `maximumResponseBytes` of a body (at most 2^32 - 1, what a `ByteBuffer` holds).
    public init(clients: [HTTPClient] = AsyncHTTPTransport.processClients, maximumResponseBytes: Int = 10 << 20) {
        self.clients = clients.isEmpty ? Self.processClients : clients
        self.maximumResponseBytes = min(max(0, maximumResponseBytes), Int(UInt32.max))
    }

    public func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        let deadline = NIODeadline.now() + .nanoseconds(Int64(clamping: request.timeout.nanoseconds))
        var current = request
        for _ in 0...OutgoingRequest.maximumRedirects {
            let response = try await sendOnce(current, deadline: deadline, originalURL: request.url)
            guard let next = current.redirected(status: response.status, location: response.header("location")) else { return response }
            current = next
        }
        throw TransportFailure(.connection, "\(request.method) \(OutgoingRequest.withoutUserInfo(request.url)) was redirected more than \(OutgoingRequest.maximumRedirects) times")
    }

    /// The short descriptions of the client's refusals of a request's headers, whose values they
    /// carry: a request it refuses once it always refuses.
    private static let refusedHeaders: Set<String> = [
        HTTPClientError.invalidHeaderFieldNames([]).shortDescription, HTTPClientError.invalidHeaderFieldValues([]).shortDescription,
    ]

    /// One request under `deadline` (its whole exchange, body included), gathered by a
    /// `ResponseCollector`; a canceled task cancels the request.
    private func sendOnce(_ request: OutgoingRequest, deadline: NIODeadline, originalURL: String) async throws(TransportFailure) -> IncomingResponse {
        let shown = request.shownURL(original: originalURL)
        guard let url = URL(string: request.url) else { throw TransportFailure(.invalidRequest, "invalid URL \(shown)") }
        guard OutgoingRequest.isRequestable(url) else {
            throw TransportFailure(.invalidRequest, "invalid URL \(shown): only http and https URLs are requested")
        }
        if let problem = OutgoingRequest.authorityProblem(url) { throw TransportFailure(.invalidRequest, "invalid URL \(shown): \(problem)") }
        do {
            let outgoing = try HTTPClient.Request(
                url: url, method: HTTPMethod(rawValue: request.method),
                headers: HTTPHeaders(request.headers.map { ($0.name, $0.value) }), body: request.body.map { .bytes($0) })
            return try await execute(outgoing, on: clients[Int.random(in: clients.indices)], deadline: deadline)
        } catch is ResponseCollector.TooLarge {
            throw TransportFailure(.responseTooLarge, "the response to \(request.method) \(shown) is larger than \(maximumResponseBytes) bytes")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw TransportFailure(.timeout, "no complete response within \(request.timeout) from \(shown)")
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost {
            throw TransportFailure(.invalidRequest, "invalid URL \(shown)")
        } catch let error as HTTPClientError where Self.refusedHeaders.contains(error.shortDescription) {
            // Asking again sends the same headers: no retry.
            throw TransportFailure(.invalidRequest, "\(request.method) \(shown) cannot be sent: \(TransportErrorText.describe(error))")
        } catch {
            throw TransportFailure(.connection, "\(request.method) \(shown) failed: \(TransportErrorText.describe(error))")
        }
    }

    /// Executes `outgoing` from an event loop of `client`, entered once. Started from another
    /// thread, AsyncHTTPClient enters its loop for every part of the start (its deadline, the pool,
    /// the connection, the result), each a wake-up of the loop's thread; and a client over several
    /// loops hands a response from its connection's loop to the request's about every other time.
    /// With one client per loop and the start on it, the loop is entered once to start a request
    /// (BENCHMARKS.md, session 24: a third fewer context switches per sequential step).
    private func execute(_ outgoing: HTTPClient.Request, on client: HTTPClient, deadline: NIODeadline) async throws -> IncomingResponse {
        let loop = client.eventLoopGroup.next()
        let collector = ResponseCollector(limit: maximumResponseBytes, method: outgoing.method)
        let request = StartedRequest()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                guard request.wait(with: continuation) else { return }
                loop.execute {
                    request.start { client.execute(request: outgoing, delegate: collector, deadline: deadline) }
                }
            }
        } onCancel: {
            request.cancel()
        }
    }
}
