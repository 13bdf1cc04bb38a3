/// A 1-based line and column in a source text, for messages a person reads.
public struct SourceLocation: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    /// The location of `offset` (in Unicode scalars) in `source`; offsets past the end point just after it.
    public init(offset: Int, in source: String) {
        var line = 1
        var column = 1
        for (index, scalar) in source.unicodeScalars.enumerated() {
            guard index < offset else { break }
            if scalar == "\n" {
                line += 1
                column = 1
            } else {
                column += 1
            }
        }
        self.init(line: line, column: column)
    }

    public var description: String { "\(line):\(column)" }

    /// The source line holding this location and a caret under its column, as compilers show errors.
    public func snippet(of source: String, indent: String = "  ") -> String {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        guard line >= 1, line <= lines.count else { return "" }
        let text = lines[line - 1]
        // Tabs are kept under the caret so it lines up in a terminal.
        let padding = text.unicodeScalars.prefix(column - 1).map { $0 == "\t" ? "\t" : " " }.joined()
        return indent + text + "\n" + indent + padding + "^"
    }
}
