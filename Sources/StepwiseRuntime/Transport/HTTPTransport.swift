import Foundation
import StepwiseExpressions

/// Sends the requests of `http` steps. The engine provides one (AsyncHTTPClient); tests may
/// provide their own. Implementations must honour `timeout`.
public protocol HTTPTransport: Sendable {
    func send(_ request: OutgoingRequest) async throws(TransportFailure) -> IncomingResponse
}
