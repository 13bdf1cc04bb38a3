/// Input on the QStash wire that cannot be accepted: the message names what is wrong and where
/// (`batch item 3: header 'Upstash-Delay': …`), so the server can answer 400 with it verbatim.
public struct ProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, prefixed by where it was found.
    public let message: String

    /// An error with the given message.
    public init(_ message: String) {
        self.message = message
    }

    /// The same error with `location` (`batch item 3`, `header 'Upstash-Delay'`) put in front.
    public func located(_ location: String) -> ProtocolError {
        ProtocolError("\(location): \(message)")
    }

    public var description: String { message }
}

extension ProtocolError {
    /// Runs `body`, prefixing any `ProtocolError` it throws with `location`.
    public static func locating<T>(_ location: String, _ body: () throws(ProtocolError) -> T) throws(ProtocolError) -> T {
        do {
            return try body()
        } catch {
            throw error.located(location)
        }
    }
}
