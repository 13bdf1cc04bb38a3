/// Finds where a duplicated key is written a second time, since Yams reports only where the key is
/// first written.
enum DuplicateKeyLocator {
    /// `source` with the first character of the key written at `span` (inside its quotes, for a
    /// quoted key) replaced by a private-use character numbered `index`, so the key no longer
    /// repeats another while every position in the text stays where it was. `nil` when no key
    /// character is there.
    static func renamingKey(at span: SourceSpan, in source: String, uniquely index: Int) -> String? {
        guard let replacement = Unicode.Scalar(0xE000 + index) else { return nil }
        var lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        guard span.line >= 1, span.line <= lines.count else { return nil }
        var column = span.column - 1
        let line = lines[span.line - 1]
        if column < line.count, line[column] == "\"" || line[column] == "'" { column += 1 }
        guard column >= 0, column < line.count, ![":", " ", "\"", "'", "{", "}", ",", "*", "&"].contains(line[column]) else { return nil }
        lines[span.line - 1][column] = replacement
        return lines.map { String(String.UnicodeScalarView($0)) }.joined(separator: "\n")
    }

    /// The second `key` of the mapping whose first `key` is at `mark`: in a block mapping, the next
    /// key written at the same column; in a flow mapping, the next key at the same bracket depth.
    static func secondOccurrence(of key: String, after mark: Yams.Mark, in source: String) -> SourceSpan {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map { Array($0.unicodeScalars) }
        let candidates = [key + ":", "\"\(key)\":", "'\(key)':"].map { Array($0.unicodeScalars) }
        func isKey(_ line: [Unicode.Scalar], at column: Int) -> Bool {
            candidates.contains { column + $0.count <= line.count && Array(line[column..<column + $0.count]) == $0 }
        }
        let fallback = SourceSpan(line: mark.line, column: mark.column)
        guard mark.line >= 1, mark.line <= lines.count, mark.column >= 1, mark.column <= lines[mark.line - 1].count else { return fallback }
        let start = mark.column - 1
        let before = lines[mark.line - 1][..<start].filter { $0 != " " }
        if before.last == "{" || before.last == "," {
            // Flow mapping: walk on from the first key, tracking brackets and quotes.
            var depth = 0
            var quote: Unicode.Scalar?
            var afterComma = false
            for lineIndex in (mark.line - 1)..<lines.count {
                let line = lines[lineIndex]
                for column in (lineIndex == mark.line - 1 ? start + 1 : 0)..<line.count {
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
