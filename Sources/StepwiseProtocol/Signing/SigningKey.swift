/// A QStash signing key: `sig_` and random base62 (28 characters in the dev server's keys, 46 in
/// the keys of older accounts, `qstash-js` `src/dev-server/constants.ts` and
/// `examples/nodejs/index.js`). The HMAC key is the UTF-8 bytes of the whole text.
public struct SigningKey: Sendable, Hashable, CustomStringConvertible, CustomReflectable {
    /// The key text, `sig_…`.
    public let text: String

    /// The key with text `text`, taken as given (keys from configuration need not look generated).
    public init(_ text: String) {
        self.text = text
    }

    /// The length of the random part of generated keys.
    public static let randomLength = 28

    /// A fresh key drawn from `generator` (inject a seeded one in tests).
    public static func generate(using generator: inout some RandomNumberGenerator) -> SigningKey {
        SigningKey("sig_" + Base62.random(count: randomLength, using: &generator))
    }

    /// Keys are secrets: the description shows none of the key, only its length, so that a key
    /// interpolated by mistake says what it is without giving any of it away.
    public var description: String { "SigningKey(\(text.count) characters, redacted)" }

    /// `dump` and debuggers show the description, never the text.
    public var customMirror: Mirror { Mirror(self, children: ["text": "redacted"]) }
}
