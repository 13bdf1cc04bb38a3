import Crypto
import StepwiseExpressions

/// Verifies an `Upstash-Signature` the way the official receivers do (`qstash-js` `src/receiver.ts`,
/// `qstash-py` `qstash/receiver.py`): the current key, then the next; HS256 only; issuer
/// `Upstash`; `exp`/`nbf` with a leeway; the body hash compared with trailing `=` stripped on both
/// sides; the subject only when a URL is given. The engine uses it to check its own tokens and
/// tokens of messages it relays.
public struct SignatureVerifier: Sendable {
    public var keys: SigningKeys

    /// A verifier accepting either of `keys`.
    public init(keys: SigningKeys) {
        self.keys = keys
    }

    /// The claims of `token` when it is valid for `body` at `now` (unix seconds) within `leeway`
    /// seconds and, when given, for `url`; otherwise an error saying why. The next key is tried
    /// only when the current one did not sign the token, so a token that is merely expired says so.
    public func verify(token: String, body: [UInt8], now: Int64, leeway: Int64 = 0, url: String? = nil) throws(ProtocolError) -> SignatureClaims {
        let claims = try claims(of: token, now: now, leeway: leeway, url: url)
        let expected = SignatureClaims.hash(of: body)
        guard Self.unpadded(claims.bodyHash) == Self.unpadded(expected) else {
            throw ProtocolError("body hash does not match, want: \(claims.bodyHash), got: \(expected)")
        }
        return claims
    }

    /// The claims of `token` when it is valid at `now` within `leeway` seconds and, when given, for
    /// `url`, whatever body it signs: what can be checked before a request's body is read. Never
    /// accept a request on this alone: `verify` checks the body too.
    public func claims(of token: String, now: Int64, leeway: Int64 = 0, url: String? = nil) throws(ProtocolError) -> SignatureClaims {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let header = Base64URL.decode(segments[0]), let payload = Base64URL.decode(segments[1]),
            let mac = Base64URL.decode(segments[2])
        else { throw ProtocolError("the signature is not a compact JWT") }
        let joseHeader = try WireJSON.object(try WireJSON.parse(header, what: "the JWT header"), what: "the JWT header")
        guard try joseHeader.string("alg") == "HS256" else { throw ProtocolError("the JWT is not signed with HS256") }
        let signingInput = Array(token.utf8.prefix(segments[0].utf8.count + 1 + segments[1].utf8.count))
        let signed = [keys.current, keys.next].contains { key in
            HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: signingInput, using: SymmetricKey(data: Array(key.text.utf8)))
        }
        guard signed else { throw ProtocolError("the JWT signature is invalid") }
        let claims = try SignatureClaims(json: try WireJSON.parse(payload, what: "the JWT payload"))
        guard claims.issuer == SignatureClaims.upstashIssuer else { throw ProtocolError("invalid issuer: \(claims.issuer)") }
        // PyJWT's rules (what Python endpoints apply): expired when exp <= now - leeway, immature
        // when nbf or iat > now + leeway.
        guard claims.expiresAt > now - leeway else { throw ProtocolError("the signature has expired") }
        guard claims.notBefore <= now + leeway, claims.issuedAt <= now + leeway else {
            throw ProtocolError("the signature is not yet valid")
        }
        if let url, claims.subject != url {
            throw ProtocolError("invalid subject: \(claims.subject), want: \(url)")
        }
        return claims
    }

    private static func unpadded(_ hash: String) -> Substring {
        hash[..<(hash.lastIndex { $0 != "=" }.map { hash.index(after: $0) } ?? hash.startIndex)]
    }
}
