import Foundation
import StepwiseExpressions

/// Sends the requests of `http` steps. The engine provides one (AsyncHTTPClient); tests may
/// provide their own. Implementations must honour `timeout`.
public protocol HTTPTransport: Sendable {
    /// Sends `request` within its timeout; its answer whatever the status, or why none came.
    func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse
}
