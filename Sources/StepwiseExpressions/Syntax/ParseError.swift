/// An expression or template that cannot be parsed: what is wrong and the exact position.
///
/// Some messages mention a second position (the bracket a missing `)` should close). Standalone,
/// it reads "opened at column 7"; inside a file, `message(describingOffset:)` lets the caller
/// name it in file coordinates ("opened at 19:41").
public struct ParseError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Offset into the source text, counted in Unicode scalars from 0.
    public let offset: Int
    /// Offset of the related position the message refers to, if any.
    public let relatedOffset: Int?
    private let head: String
    private let tail: String

    public init(_ message: String, offset: Int) {
        self.offset = offset
        relatedOffset = nil
        head = message
        tail = ""
    }

    /// A message of the form `head <related position> tail`.
    init(_ head: String, relatedOffset: Int, _ tail: String, offset: Int) {
        self.offset = offset
        self.relatedOffset = relatedOffset
        self.head = head
        self.tail = tail
    }

    /// What is wrong, in words a person understands ("expected ')' to close call of size() opened at column 7").
    public var message: String { message { "column \($0 + 1)" } }

    /// The message with the related position described by `describe` (given its offset).
    public func message(describingOffset describe: (Int) -> String) -> String {
        guard let relatedOffset else { return head }
        return head + describe(relatedOffset) + tail
    }

    /// The same error with both offsets moved by `delta`, for an expression embedded in a larger text.
    public func shifted(by delta: Int) -> ParseError {
        guard let relatedOffset else { return ParseError(head, offset: offset + delta) }
        return ParseError(head, relatedOffset: relatedOffset + delta, tail, offset: offset + delta)
    }

    public var description: String { "\(message) (at offset \(offset))" }
}
