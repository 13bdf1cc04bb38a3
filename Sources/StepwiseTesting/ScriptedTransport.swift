import StepwiseRuntime
import Synchronization

/// An HTTP transport for tests: answers from a script of responses per URL and records every
/// request it receives.
public final class ScriptedTransport: HTTPTransport, Sendable {
    private struct State {
        var scripts: [String: [Result<IncomingResponse, TransportFailure>]]
        var received: [OutgoingRequest] = []
    }

    private let state: Mutex<State>

    /// A transport answering each URL from its script, in order.
    public init(_ scripts: [String: [Result<IncomingResponse, TransportFailure>]]) {
        state = Mutex(State(scripts: scripts))
    }

    /// A JSON response.
    public static func json(_ status: Int, _ body: String, headers: [(name: String, value: String)] = []) -> Result<IncomingResponse, TransportFailure> {
        .success(IncomingResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: Array(body.utf8)))
    }

    /// Every request received, in order.
    public var requests: [OutgoingRequest] { state.withLock { $0.received } }

    /// The next scripted answer for the request's URL.
    public func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse {
        let next: Result<IncomingResponse, TransportFailure> = state.withLock { state in
            state.received.append(request)
            let key = state.scripts.keys.first { request.url.hasPrefix($0) } ?? ""
            guard var script = state.scripts[key], !script.isEmpty else {
                return .failure(TransportFailure(.connection, "no scripted response for \(request.url)"))
            }
            let response = script.count > 1 ? script.removeFirst() : script[0]
            state.scripts[key] = script
            return response
        }
        return try next.get()
    }
}
