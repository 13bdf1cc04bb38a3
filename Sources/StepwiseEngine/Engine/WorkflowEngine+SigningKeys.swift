import StepwiseProtocol

/// The keys that sign deliveries (QStash's `GET /v2/keys`, `POST /v2/keys/rotate`).
extension WorkflowEngine {
    /// The current and next signing keys, generated and stored when the store has none yet.
    public func signingKeys() async throws -> SigningKeys {
        var generator = SystemRandomNumberGenerator()
        return try await store.signingKeys(storingIfAbsent: .generate(using: &generator))
    }

    /// Makes the next key current and a fresh one next; endpoints that accept both keep
    /// verifying deliveries throughout.
    public func rotateSigningKeys() async throws -> SigningKeys {
        var generator = SystemRandomNumberGenerator()
        let keys = try await signingKeys()
        return try await store.rotateSigningKeys(from: keys, to: keys.rotated(using: &generator))
    }
}
