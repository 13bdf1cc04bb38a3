import Crypto
import Foundation
import StepwiseExpressions
import StepwiseProtocol

/// The API token every node accepts, known by its SHA-256 digest: nodes share the digest through
/// the store, so the token itself is never stored, and each node checks a presented token
/// against the digest.
public struct SharedToken: Sendable, Equatable {
    /// The token's SHA-256, in hex.
    public let digest: String

    /// The digest of `token`.
    public init(token: String) {
        digest = TokenMatch.digest(token)
    }

    /// A digest read from the store.
    public init(digest: String) {
        self.digest = digest
    }

    /// Whether `presented` is the token, compared in constant time over the digests.
    public func accepts(_ presented: String) -> Bool {
        TokenMatch.same(digest: TokenMatch.digest(presented), as: digest)
    }

    /// A new token in QStash's shape, the base64 of `{"UserID", "Password"}` (the JS SDK's
    /// `createWebhook` reads its user id from the token), the password 32 random bytes in hex.
    /// Its 99 bytes of ASCII without `>`, `?` or `~` encode to letters and digits only, so the
    /// token goes into a header, a query or a shell unescaped.
    public static func freshToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let password = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        return Data(#"{"UserID":"stepwise","Password":"\#(password)"}"#.utf8).base64EncodedString()
    }

    /// The token node `node` accepts and where it came from, for people (saying when it replaces
    /// the token clients used). A token given explicitly (a flag, the environment) becomes every
    /// node's. Otherwise the stored one applies
    /// when another node stored it or it was given explicitly; else this node's own (its file, or
    /// a `fresh` one made when it has none), which replaces one it stored itself from a file, so a
    /// single node whose token file was replaced or deleted goes on with its new one.
    public static func resolve(
        explicit: (token: String, source: String)?, local: (token: String, source: String)?, node: String, store: any Store,
        fresh: () throws -> (token: String, source: String)
    ) async throws -> (token: SharedToken, source: String) {
        if let explicit {
            let token = SharedToken(token: explicit.token)
            let before = try await store.apiToken(storing: nil, node: node, replacing: false)
            _ = try await store.apiToken(storing: token.digest, node: node, replacing: true)
            guard let before, before.digest != token.digest else { return (token, explicit.source) }
            return (token, explicit.source + "; it replaces the token this store accepted before, for every node, and stays until another is given this way")
        }
        let previous = local == nil ? try await store.apiToken(storing: nil, node: node, replacing: false) : nil
        // A token given explicitly before stays until one is given again; another node's too.
        if let previous, previous.node != node || previous.explicit {
            return (SharedToken(digest: previous.digest), "the store (node \(previous.node)'s)")
        }
        let own = try local ?? fresh()
        let token = SharedToken(token: own.token)
        let stored = try await store.apiToken(storing: token.digest, node: node, replacing: false)
        guard let stored, stored.digest != token.digest else {
            // This node's token file is gone (deleted to rotate, or a store restored elsewhere):
            // the clients holding the token the store knew are refused from now on.
            guard previous != nil else { return (token, own.source) }
            return (token, own.source + "; it replaces the token this store accepted before, so clients holding that one get 401 (start with --token to keep it)")
        }
        return (SharedToken(digest: stored.digest), "the store (node \(stored.node)'s; \(own.source) on this node is not the shared token)")
    }
}
