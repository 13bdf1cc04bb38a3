/// Finds where a duplicated key is written a second time, since Yams reports only the mapping.
enum DuplicateKeyLocator {
    static func secondOccurrence(of key: String, after mark: Yams.Mark, in source: String) -> SourceSpan {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false)
        var seen = 0
        var first: SourceSpan?
        for (index, line) in lines.enumerated() where index + 1 >= mark.line {
            let indentation = line.prefix { $0 == " " || $0 == "-" }.count
            let content = line.dropFirst(indentation)
            for candidate in [key + ":", "\"\(key)\":", "'\(key)':"] where content.hasPrefix(candidate) {
                let span = SourceSpan(line: index + 1, column: indentation + 1)
                seen += 1
                if seen == 1 { first = span } else { return span }
            }
        }
        return first ?? SourceSpan(line: mark.line, column: mark.column)
    }
}

import Yams
