import StepwiseExpressions
import StepwiseProtocol

/// The keys that sign deliveries (QStash's `GET /v2/keys`, `POST /v2/keys/rotate`).
extension WorkflowEngine {
    /// The current and next signing keys, generated and stored when the store has none yet.
    public func signingKeys() async throws -> SigningKeys {
        var generator = SystemRandomNumberGenerator()
        let keys = try await store.signingKeys(storingIfAbsent: .generate(using: &generator))
        knownKeys = (keys, clock())
        return keys
    }

    /// Makes the next key current and a fresh one next; endpoints that accept both keep
    /// verifying deliveries throughout.
    public func rotateSigningKeys() async throws -> SigningKeys {
        var generator = SystemRandomNumberGenerator()
        let keys = try await signingKeys()
        let rotated = try await store.rotateSigningKeys(from: keys, to: keys.rotated(using: &generator))
        knownKeys = (rotated, clock())
        return rotated
    }

    /// The key that signs a delivery attempt: the keys as last read, so that deliveries do not
    /// each open a write transaction; read again after `maximumIdle`, which bounds how long this
    /// node signs with a key another node has rotated out.
    func deliveryKey() async throws -> SigningKey {
        if let (keys, readAt) = knownKeys, clock() < readAt.movedForward(by: configuration.maximumIdle) { return keys.current }
        return try await signingKeys().current
    }
}
