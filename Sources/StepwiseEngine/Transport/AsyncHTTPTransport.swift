import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StepwiseExpressions
import StepwiseRuntime

/// Sends `http` and `call` requests with AsyncHTTPClient, reading at most `maximumResponseBytes`
/// of a body. A request's deadline is its step's `timeout`.
public struct AsyncHTTPTransport: HTTPTransport {
    private let client: HTTPClient
    private let maximumResponseBytes: Int

    /// The process's client. Unlike `HTTPClient.shared` it has no read timeout (90 s there): a
    /// `call` may wait hours for its answer, bounded by the request's own deadline.
    public static let processClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.decompression = .enabled(limit: .ratio(25))
        return HTTPClient(eventLoopGroup: HTTPClient.defaultEventLoopGroup, configuration: configuration)
    }()

    public init(client: HTTPClient = AsyncHTTPTransport.processClient, maximumResponseBytes: Int = 10 << 20) {
        self.client = client
        self.maximumResponseBytes = maximumResponseBytes
    }

    public func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        var outgoing = HTTPClientRequest(url: request.url)
        outgoing.method = HTTPMethod(rawValue: request.method)
        for header in request.headers { outgoing.headers.add(name: header.name, value: header.value) }
        if let body = request.body { outgoing.body = .bytes(ByteBuffer(bytes: body)) }
        let timeout = TimeAmount.nanoseconds(Int64(clamping: request.timeout.nanoseconds))
        do {
            let response = try await client.execute(outgoing, timeout: timeout)
            let body = try await response.body.collect(upTo: maximumResponseBytes)
            return IncomingResponse(
                status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) },
                body: Array(buffer: body))
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout || error == .connectTimeout {
            throw TransportFailure(.timeout, "no response within \(request.timeout) from \(request.url)")
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost || error == .unsupportedScheme("") {
            throw TransportFailure(.invalidRequest, "invalid URL \(request.url)")
        } catch {
            throw TransportFailure(.connection, "\(request.method) \(request.url) failed: \(error)")
        }
    }
}
