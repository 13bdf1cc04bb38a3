import Crypto
import StepwiseProtocol

/// The API token every node accepts, known by its SHA-256 digest: nodes share the digest through
/// the store, so the token itself is never stored, and each node checks a presented token
/// against the digest.
public struct SharedToken: Sendable, Equatable {
    /// The token's SHA-256, in hex.
    public let digest: String

    /// The digest of `token`.
    public init(token: String) {
        digest = SHA256.hash(data: Array(token.utf8)).map { byte in String(byte, radix: 16).leftPadded(to: 2) }.joined()
    }

    /// A digest read from the store.
    public init(digest: String) {
        self.digest = digest
    }

    /// Whether `presented` is the token, compared in constant time over the digests.
    public func accepts(_ presented: String) -> Bool {
        let left = Array(SharedToken(token: presented).digest.utf8)
        let right = Array(digest.utf8)
        guard left.count == right.count else { return false }
        return zip(left, right).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// The token a node accepts and where it came from, for people. A token given explicitly (a
    /// flag, the environment) becomes every node's; a node's own file token, or a `fresh` one
    /// made when it has none, is stored only when no node stored one first, else the stored
    /// one applies.
    public static func resolve(
        explicit: (token: String, source: String)?, local: (token: String, source: String)?, store: any Store,
        fresh: () throws -> (token: String, source: String)
    ) async throws -> (token: SharedToken, source: String) {
        if let explicit {
            let token = SharedToken(token: explicit.token)
            _ = try await store.apiTokenDigest(storing: token.digest, replacing: true)
            return (token, explicit.source)
        }
        if let local {
            let stored = try await store.apiTokenDigest(storing: SharedToken(token: local.token).digest, replacing: false)
            let token = stored.map(SharedToken.init(digest:)) ?? SharedToken(token: local.token)
            guard token == SharedToken(token: local.token) else {
                return (token, "the store (another node's; \(local.source) on this node is not the shared token)")
            }
            return (token, local.source)
        }
        if let stored = try await store.apiTokenDigest(storing: nil, replacing: false) {
            return (SharedToken(digest: stored), "the store (another node's)")
        }
        let created = try fresh()
        return try await resolve(explicit: nil, local: created, store: store) { created }
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
