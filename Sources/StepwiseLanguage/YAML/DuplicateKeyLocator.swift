/// Finds where a duplicated key is written a second time, since Yams reports only where the key is
/// first written.
enum DuplicateKeyLocator {
    /// `source` with the first character of the key written at `span` (inside its quotes, for a
    /// quoted key) replaced by a private-use character numbered `index`, so the key no longer
    /// repeats another while every position in the text stays where it was. `nil` when `key` is
    /// not written there.
    static func renamingKey(_ key: String, at span: SourceSpan, in source: String, uniquely index: Int) -> String? {
        guard let replacement = Unicode.Scalar(0xE000 + index), !key.isEmpty else { return nil }
        var lines = scalarLines(source)
        guard span.line >= 1, span.line <= lines.count, span.column >= 1 else { return nil }
        let line = lines[span.line - 1]
        guard let written = keyForm(of: key).first(where: { isKey($0, in: line, at: span.column - 1) }) else { return nil }
        let quoted = written.first == "\"" || written.first == "'"
        lines[span.line - 1][span.column - 1 + (quoted ? 1 : 0)] = replacement
        return lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
    }

    /// The text split into lines of Unicode scalars, as Yams counts positions (a `\r` before a
    /// line break stays at the end of its line).
    private static func scalarLines(_ source: String) -> [[Unicode.Scalar]] {
        source.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false).map(Array.init)
    }

    /// The ways `key` is written as a mapping key: plain, double- or single-quoted.
    private static func keyForm(of key: String) -> [[Unicode.Scalar]] {
        [key, "\"\(key)\"", "'\(key)'"].map { Array($0.unicodeScalars) }
    }

    /// Whether `line` holds one of `key`'s forms at `column`, followed by spaces and a colon.
    private static func isKey(_ form: [Unicode.Scalar], in line: [Unicode.Scalar], at column: Int) -> Bool {
        guard column >= 0, column + form.count <= line.count, Array(line[column..<column + form.count]) == form else { return false }
        let after = line[(column + form.count)...].drop { $0 == " " }
        return after.first == ":"
    }

    /// The second `key` of the mapping whose first `key` is at `mark`: in a block mapping, the next
    /// key written at the same column; in a flow mapping, the next key at the same bracket depth.
    static func secondOccurrence(of key: String, after mark: Yams.Mark, in source: String) -> SourceSpan {
        let lines = scalarLines(source)
        let forms = keyForm(of: key)
        func isKey(_ line: [Unicode.Scalar], at column: Int) -> Bool {
            forms.contains { Self.isKey($0, in: line, at: column) }
        }
        let fallback = SourceSpan(line: mark.line, column: mark.column)
        guard mark.line >= 1, mark.line <= lines.count, mark.column >= 1, mark.column <= lines[mark.line - 1].count else { return fallback }
        let start = mark.column - 1
        let before = lines[mark.line - 1][..<start].filter { $0 != " " }
        if before.last == "{" || before.last == "," {
            // The walk starts after the first key as written (quotes included), so that a closing
            // quote is not read as an opening one.
            let firstKeyLength = forms.first { Self.isKey($0, in: lines[mark.line - 1], at: start) }?.count ?? 1
            // Flow mapping: walk on from the first key, tracking brackets and quotes.
            var depth = 0
            var quote: Unicode.Scalar?
            var afterComma = false
            for lineIndex in (mark.line - 1)..<lines.count {
                let line = lines[lineIndex]
                for column in (lineIndex == mark.line - 1 ? min(start + firstKeyLength, line.count) : 0)..<line.count {
                    let scalar = line[column]
                    if let open = quote {
                        if scalar == open { quote = nil }
                        continue
                    }
                    if afterComma, scalar != " " {
                        if depth == 0, isKey(line, at: column) { return SourceSpan(line: lineIndex + 1, column: column + 1) }
                        afterComma = false
                    }
                    switch scalar {
                    case "'", "\"": quote = scalar
                    case "{", "[": depth += 1
                    case "}", "]":
                        depth -= 1
                        if depth < 0 { return fallback }
                    case ",": afterComma = depth == 0
                    default: break
                    }
                }
            }
            return fallback
        }
        // Block mapping: the next line whose key (after indentation and sequence dashes) starts at
        // the first key's column.
        for lineIndex in mark.line..<lines.count {
            let line = lines[lineIndex]
            let indentation = line.prefix { $0 == " " || $0 == "-" }.count
            if indentation == start, isKey(line, at: indentation) { return SourceSpan(line: lineIndex + 1, column: indentation + 1) }
        }
        return fallback
    }
}

import Yams
