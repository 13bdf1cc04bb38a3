import Foundation
import StepwiseExpressions

/// A request an `http` step sends.
public struct OutgoingRequest: Sendable, Equatable {
    public var method: String
    public var url: String
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]?
    public var timeout: DurationValue
    /// The lowercased names of the headers whose values carry secrets: a transport never sends
    /// them to another origin than the request's own (redirects).
    public var secretHeaderNames: Set<String>
    /// Redacts what would reveal the request's secrets from anything derived from sending it.
    public var redactor: SecretRedactor

    public init(
        method: String, url: String, headers: [(name: String, value: String)], body: [UInt8]?, timeout: DurationValue,
        secretHeaderNames: Set<String> = [], redactor: SecretRedactor = .none
    ) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
        self.secretHeaderNames = secretHeaderNames
        self.redactor = redactor
    }

    public static func == (lhs: OutgoingRequest, rhs: OutgoingRequest) -> Bool {
        lhs.method == rhs.method && lhs.url == rhs.url && lhs.body == rhs.body && lhs.timeout == rhs.timeout
            && lhs.headers.map(\.name) == rhs.headers.map(\.name) && lhs.headers.map(\.value) == rhs.headers.map(\.value)
            && lhs.secretHeaderNames == rhs.secretHeaderNames && lhs.redactor == rhs.redactor
    }

    /// The first header named `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first { $0.name.equalsIgnoringASCIICase(name) }?.value
    }

    /// Whether a transport may request `url` (or follow a redirect to it): http and https only. An
    /// HTTP client may speak more (AsyncHTTPClient reaches Unix sockets through `http+unix:`),
    /// which a URL built from a run's input must never reach.
    public static func isRequestable(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    /// The ports a connection can use.
    public static let usablePorts = 1...65_535

    /// What makes `url`'s authority unusable, if anything: a port outside 1 to 65535, or a host
    /// that is empty once the brackets of an IPv6 address are taken off (`http://%5B%5D/` decodes
    /// to `[]`). The HTTP client traps on both (SwiftNIO's socket address takes a `UInt16`; its
    /// connection target requires a host), so a URL from a run's input, a published message or a
    /// redirect is checked before it is sent.
    public static func authorityProblem(_ url: URL) -> String? {
        if let port = url.port, !usablePorts.contains(port) { return "a port is a number from 1 to 65535" }
        let host = url.host ?? ""
        let bracketed = host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2
        let inner = bracketed ? host.dropFirst().dropLast() : Substring(host)
        guard !inner.isEmpty, !inner.contains("["), !inner.contains("]") else { return "it has no host a connection can use" }
        return nil
    }
}
