import Crypto
import StepwiseExpressions

/// The claims of an `Upstash-Signature` JWT (§8): issuer `Upstash`, the destination as subject,
/// a five-minute validity and the base64url SHA-256 of the body.
public struct SignatureClaims: Sendable, Equatable {
    public var issuer: String
    /// The destination URL of the delivery.
    public var subject: String
    /// Unix seconds.
    public var issuedAt: Int64
    public var notBefore: Int64
    public var expiresAt: Int64
    /// `jwt_<random>`.
    public var id: String
    /// base64url(SHA-256(body)), padded.
    public var bodyHash: String

    /// The issuer every QStash token carries and every receiver checks.
    public static let upstashIssuer = "Upstash"
    /// How long a signature stays valid.
    public static let lifetime: Int64 = 300

    /// Claims with the given parts.
    public init(issuer: String = upstashIssuer, subject: String, issuedAt: Int64, notBefore: Int64, expiresAt: Int64, id: String, bodyHash: String) {
        self.issuer = issuer
        self.subject = subject
        self.issuedAt = issuedAt
        self.notBefore = notBefore
        self.expiresAt = expiresAt
        self.id = id
        self.bodyHash = bodyHash
    }

    /// Claims for delivering `body` to `destination` at `now` (unix seconds).
    public init(destination: String, body: [UInt8], now: Int64, id: String) {
        self.init(
            subject: destination, issuedAt: now, notBefore: now, expiresAt: now + Self.lifetime, id: id,
            bodyHash: Self.hash(of: body)
        )
    }

    /// base64url(SHA-256(`body`)) with padding, as QStash writes the `body` claim.
    public static func hash(of body: [UInt8]) -> String {
        Base64URL.encode(SHA256.hash(data: body), padded: true)
    }

    /// The payload JSON. Members in alphabetical order with an empty `aud`, as QStash's own
    /// tokens have them, so a token signed here for the same claims is byte-identical.
    public var json: Value {
        .map(ValueMap([
            ("aud", .string("")), ("body", .string(bodyHash)), ("exp", .int(expiresAt)), ("iat", .int(issuedAt)),
            ("iss", .string(issuer)), ("jti", .string(id)), ("nbf", .int(notBefore)), ("sub", .string(subject)),
        ]))
    }

    /// Reads a payload; `iss`, `sub`, `exp`, `nbf` and `body` are required, as Python's receiver
    /// requires them.
    public init(json: Value) throws(ProtocolError) {
        let map = try WireJSON.object(json, what: "the JWT payload")
        func required<T>(_ value: T?, _ name: String) throws(ProtocolError) -> T {
            guard let value else { throw ProtocolError("the JWT has no '\(name)' claim") }
            return value
        }
        issuer = try required(try map.string("iss"), "iss")
        subject = try required(try map.string("sub"), "sub")
        expiresAt = try required(try map.integer("exp"), "exp")
        notBefore = try required(try map.integer("nbf"), "nbf")
        issuedAt = try map.integer("iat") ?? notBefore
        id = try map.string("jti") ?? ""
        bodyHash = try required(try map.string("body"), "body")
    }
}
