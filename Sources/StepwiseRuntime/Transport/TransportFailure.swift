import Foundation
import StepwiseExpressions

/// A request that got no usable response: the connection failed, the timeout passed, the request
/// could not be sent, or its response was too large.
public struct TransportFailure: Error, Sendable, Equatable {
    /// Why there was no response.
    public enum Kind: String, Sendable {
        case connection = "ConnectionError"
        case timeout = "Timeout"
        case invalidRequest = "InvalidRequest"
        /// The response's body passed the transport's limit; asking again gets the same answer,
        /// so the default policy does not retry it.
        case responseTooLarge = "ResponseTooLarge"
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }
}
