/// A header a queued message carries to its destination (an `Upstash-Forward-*` header with the
/// prefix stripped), kept with its original spelling.
public struct ForwardedHeader: Sendable, Codable, Equatable {
    public var name: String
    public var value: String

    /// A header named `name` with `value`.
    public init(_ name: String, _ value: String) {
        self.name = name
        self.value = value
    }
}
