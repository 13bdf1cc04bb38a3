import Crypto
import StepwiseExpressions

/// A presented token compared with a known one in a time that does not depend on where they
/// differ: both are compared as SHA-256 digests, so neither the token's length nor its content
/// leaks through timing.
public enum TokenMatch {
    /// The SHA-256 of `token`, in hex: what is kept of a token instead of the token.
    public static func digest(_ token: String) -> String {
        Hex.encode(SHA256.hash(data: Array(token.utf8)))
    }

    /// Whether two digests (`digest(_:)`) are equal, compared in constant time.
    public static func same(digest left: String, as right: String) -> Bool {
        let left = Array(left.utf8), right = Array(right.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The token of an `Authorization: Bearer <token>` value (the scheme in any case); `nil` for
    /// another scheme or none.
    public static func bearer(_ authorization: String) -> String? {
        guard authorization.count > 7, authorization.prefix(7).lowercased() == "bearer " else { return nil }
        return String(authorization.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    /// Whether `presented` is `token`.
    public static func matches(_ presented: String, _ token: String) -> Bool {
        same(digest: digest(presented), as: digest(token))
    }
}
