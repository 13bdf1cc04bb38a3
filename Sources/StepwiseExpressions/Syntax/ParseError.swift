/// An expression that cannot be parsed: what is wrong and the exact position.
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words a person understands ("expected ')' to close call of size() opened at column 7").
    public let message: String
    /// Offset into the expression text, counted in Unicode scalars from 0.
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at offset \(offset))" }
}
