import StepwiseRuntime

/// A header a queued message carries to its destination (an `Upstash-Forward-*` header with the
/// prefix stripped), kept with its original spelling.
public struct ForwardedHeader: Sendable, Codable, Equatable {
    public var name: String
    public var value: String

    /// A header named `name` with `value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }

    /// Names of headers that carry credentials, in lower case: kept to be delivered, never shown.
    public static let credentialNames = OutgoingRequest.credentialHeaderNames

    /// The header as an API shows it: a credential's value is `[redacted]`.
    public var shown: ForwardedHeader {
        Self.credentialNames.contains(name.lowercased()) ? ForwardedHeader(name, "[redacted]") : self
    }
}
