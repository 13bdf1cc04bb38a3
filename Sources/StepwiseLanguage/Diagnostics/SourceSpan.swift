/// Where something is in a workflow file: 1-based line and column (columns count Unicode scalars,
/// as libyaml does).
public struct SourceSpan: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// A location `scalars` columns to the right on the same line.
    public func advanced(by scalars: Int) -> SourceSpan {
        SourceSpan(line: line, column: column + scalars)
    }

    public static func < (lhs: SourceSpan, rhs: SourceSpan) -> Bool {
        (lhs.line, lhs.column) < (rhs.line, rhs.column)
    }

    public var description: String { "\(line):\(column)" }

    /// The start of a file.
    public static let start = SourceSpan(line: 1, column: 1)
}
