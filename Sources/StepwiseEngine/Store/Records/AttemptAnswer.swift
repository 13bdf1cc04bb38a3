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
        self.body = Array(body.prefix(Self.maximumBodyBytes))
    }
}
