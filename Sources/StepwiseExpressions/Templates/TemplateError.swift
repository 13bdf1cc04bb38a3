/// A template string that cannot be parsed: an unclosed `${{`, or an expression with a syntax error.
public struct TemplateError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong.
    public let message: String
    /// Offset in the template text (Unicode scalars) where the problem is.
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "\(message) (at offset \(offset))" }
}
