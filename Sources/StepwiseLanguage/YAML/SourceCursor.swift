/// Walks the raw text of a scalar in step with its decoded text.
struct SourceCursor {
    let lines: [[Unicode.Scalar]]
    var line: Int
    var column: Int
    /// In a block scalar, the indentation each line starts with; `nil` elsewhere, where a line
    /// break skips all leading white space.
    var blockIndentation: Int?

    var span: SourceSpan { SourceSpan(line: line, column: column) }

    private var current: Unicode.Scalar? {
        guard line >= 1, line <= lines.count else { return nil }
        let text = lines[line - 1]
        return column - 1 < text.count ? text[column - 1] : nil
    }

    private var atEndOfLine: Bool {
        guard line >= 1, line <= lines.count else { return true }
        return column - 1 >= lines[line - 1].count
    }

    mutating func advance(_ count: Int = 1) { column += count }

    mutating func nextLine() {
        line += 1
        column = 1
    }

    mutating func skipIndentation() {
        while let scalar = current, scalar == " " || scalar == "\t", blockIndentation.map({ column - 1 < $0 }) ?? true { advance() }
    }

    /// Moves past the raw characters that produced `decoded`.
    mutating func consume(_ decoded: Unicode.Scalar, style: YAMLScalarLayout.Style) {
        var guardSteps = 0
        while guardSteps < 10_000, line <= lines.count {
            guardSteps += 1
            if atEndOfLine {
                nextLine()
                skipIndentation()
                // A line break in the source became a space or a newline in the text.
                if decoded == " " || decoded == "\n" { return }
                continue
            }
            guard let raw = current else { return }
            if style == .doubleQuoted, raw == "\\" {
                advance(escapeLength())
                return
            }
            if style == .singleQuoted, raw == "'" {
                advance(2)
                return
            }
            advance()
            if raw == decoded { return }
        }
    }

    /// The raw length of the escape sequence at the cursor (`\"`, `\x41`, `\u00e9`, …).
    private func escapeLength() -> Int {
        guard line >= 1, line <= lines.count, column < lines[line - 1].count else { return 1 }
        switch lines[line - 1][column] {
        case "x": return 4
        case "u": return 6
        case "U": return 10
        default: return 2
        }
    }
}
