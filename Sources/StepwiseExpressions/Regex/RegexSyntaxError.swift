/// A pattern that does not compile: what is wrong and where.
///
/// `offset` counts Unicode scalars from the start of the pattern, so it points at the offending
/// construct even when the pattern contains multi-byte characters.
public struct RegexSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. "missing closing ')' for group opened at offset 3".
    public let message: String
    /// Where the problem is, in Unicode scalars from the start of the pattern.
    public let offset: Int

    /// Creates an error describing `message` at scalar `offset` of the pattern.
    init(message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// The message followed by the offset, suitable for showing to the author of the pattern.
    public var description: String {
        "invalid regular expression at offset \(offset): \(message)"
    }
}
