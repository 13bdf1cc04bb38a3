import Foundation
import StepwiseRuntime

/// An HTTP transport for tests: answers from a script of responses per URL and records every
/// request it receives.
public final class ScriptedTransport: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var scripts: [String: [Result<IncomingResponse, TransportFailure>]]
    private var received: [OutgoingRequest] = []

    /// A transport answering each URL from its script, in order.
    public init(_ scripts: [String: [Result<IncomingResponse, TransportFailure>]]) {
        self.scripts = scripts
    }

    /// A JSON response.
    public static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> Result<IncomingResponse, TransportFailure> {
        .success(IncomingResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8)))
    }

    /// Every request received, in order.
    public var requests: [OutgoingRequest] { lock.withLock { received } }

    /// The next scripted answer for the request's URL.
    public func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        let next: Result<IncomingResponse, TransportFailure> = lock.withLock {
            received.append(request)
            let key = scripts.keys.first { request.url.hasPrefix($0) } ?? ""
            guard var script = scripts[key], !script.isEmpty else {
                return .failure(TransportFailure(.connection, "no scripted response for \(request.url)"))
            }
            let response = script.count > 1 ? script.removeFirst() : script[0]
            scripts[key] = script
            return response
        }
        return try next.get()
    }
}
