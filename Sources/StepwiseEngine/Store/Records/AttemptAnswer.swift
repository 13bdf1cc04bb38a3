/// The answer of one delivery attempt as the QStash APIs report it (the DLQ, the message log):
/// status 0 with the reason as the body when none came.
public struct AttemptAnswer: Sendable, Codable, Equatable {
    /// The most bytes of an answer's body kept.
    public static let maximumBodyBytes = 64 << 10

    /// The HTTP status; 0 when no answer came.
    public var status: Int
    /// The answer's headers in order, each value apart.
    public var headers: [ForwardedHeader]
    /// The answer's body, its first `maximumBodyBytes`; the reason when no answer came.
    public var body: [UInt8]

    /// An answer with these parts, its body cut to `maximumBodyBytes`.
    public init(status: Int, headers: [ForwardedHeader], body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = Self.prefix(of: body, maximum: Self.maximumBodyBytes)
    }

    /// The first `maximum` bytes of `bytes`, up to three fewer when the cut would split a UTF-8
    /// character, so that a text body stays text (the APIs show other bodies in base64).
    public static func prefix(of bytes: [UInt8], maximum: Int) -> [UInt8] {
        guard bytes.count > maximum else { return bytes }
        var end = maximum
        // A continuation byte (10xxxxxx) at the cut belongs to the character before it.
        while end > 0, maximum - end < 3, bytes[end] & 0xC0 == 0x80 { end -= 1 }
        return Array(bytes[..<end])
    }
}
