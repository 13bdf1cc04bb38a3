import Crypto
import StepwiseExpressions

/// Signs deliveries with a signing key: a compact HS256 JWS over `SignatureClaims`. Signing
/// happens per attempt (a delayed or retried message would otherwise arrive expired), so the
/// clock and the randomness of `jti` are parameters.
public struct RequestSigner: Sendable {
    /// The key that signs; receivers accept the current or the next one.
    public var key: SigningKey

    /// A signer using `key`.
    public init(key: SigningKey) {
        self.key = key
    }

    /// The JOSE header, fixed for every token.
    static let headerSegment = Base64URL.encode(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8), padded: false)

    /// The `Upstash-Signature` value for delivering `body` to `destination` at `now` (unix seconds),
    /// with a `jti` of `jwt_` and 28 random base62 characters from `generator`.
    public func signature(body: [UInt8], destination: String, now: Int64, using generator: inout some RandomNumberGenerator) -> String {
        let id = "jwt_" + Base62.random(count: 28, using: &generator)
        return token(for: SignatureClaims(destination: destination, body: body, now: now, id: id))
    }

    /// The compact JWS of `claims`.
    public func token(for claims: SignatureClaims) -> String {
        let signingInput = Self.headerSegment + "." + Base64URL.encode(WireJSON.bytes(claims.json), padded: false)
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(key.text.utf8)))
        return signingInput + "." + Base64URL.encode(mac, padded: false)
    }
}
