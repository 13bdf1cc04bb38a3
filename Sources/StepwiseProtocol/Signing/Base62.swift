/// Random base62 text (`0-9A-Za-z`), the alphabet of QStash's signing keys and JWT ids.
enum Base62 {
    private static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

    /// `count` characters drawn uniformly from `generator`.
    static func random(count: Int, using generator: inout some RandomNumberGenerator) -> String {
        String((0..<max(0, count)).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
    }
}
