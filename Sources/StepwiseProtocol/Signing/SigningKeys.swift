import StepwiseExpressions

/// The current and next signing keys, as `GET /v2/keys` and `POST /v2/keys/rotate` answer them
/// (`{current, next}`); endpoints accept either, so rotating never breaks deliveries in flight.
public struct SigningKeys: Sendable, Hashable {
    public var current: SigningKey
    public var next: SigningKey

    /// A pair of keys.
    public init(current: SigningKey, next: SigningKey) {
        self.current = current
        self.next = next
    }

    /// A fresh pair drawn from `generator`.
    public static func generate(using generator: inout some RandomNumberGenerator) -> SigningKeys {
        SigningKeys(current: .generate(using: &generator), next: .generate(using: &generator))
    }

    /// The pair after a rotation: the next key becomes current, and a fresh key becomes next.
    public func rotated(using generator: inout some RandomNumberGenerator) -> SigningKeys {
        SigningKeys(current: next, next: .generate(using: &generator))
    }

    /// The answer body `{"current": "sig_…", "next": "sig_…"}`.
    public var jsonBytes: [UInt8] {
        WireJSON.bytes(.map(ValueMap([("current", .string(current.text)), ("next", .string(next.text))])))
    }
}
