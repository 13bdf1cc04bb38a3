/// Estimates how deeply a YAML text nests before a recursive parser sees it, so that hostile
/// input (ten thousand `[`) is refused instead of overflowing the stack.
///
/// The estimate counts flow brackets outside quotes plus block indentation levels and sequence
/// dashes on each line; it is an upper bound of the real depth for ordinary documents.
enum NestingScanner {
    /// Where the estimated depth first exceeds `depth`, if anywhere: the bracket that opens one
    /// level too many, or the start of the line's content for block nesting.
    static func firstPositionExceeding(depth limit: Int, in source: String) -> SourceSpan? {
        var flowDepth = 0
        var indentations: [Int] = []
        var quote: Character?
        for (number, line) in LineBreaks.normalized(source).split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let indentation = line.prefix { $0 == " " }.count
            let content = line.dropFirst(indentation)
            if flowDepth == 0, quote == nil, !content.isEmpty, !content.hasPrefix("#") {
                while let last = indentations.last, last >= indentation { indentations.removeLast() }
                indentations.append(indentation)
            }
            var dashes = 0
            var rest = Substring(content)
            while rest.hasPrefix("- ") {
                dashes += 1
                rest = rest.dropFirst(2).drop { $0 == " " }
            }
            var column = indentation
            for character in content {
                column += character.unicodeScalars.count
                if let open = quote {
                    if character == open { quote = nil }
                    continue
                }
                switch character {
                case "'", "\"": quote = character
                case "[", "{":
                    flowDepth += 1
                    if flowDepth + indentations.count + dashes > limit { return SourceSpan(line: number + 1, column: column) }
                case "]", "}": flowDepth = max(0, flowDepth - 1)
                case "#": break
                default: continue
                }
                if character == "#" { break }
            }
            // Quotes do not span lines in the documents we expect; reset to stay robust.
            if quote == "'" || quote == "\"" { quote = nil }
            if flowDepth + indentations.count + dashes > limit { return SourceSpan(line: number + 1, column: indentation + 1) }
        }
        return nil
    }
}
