/// Recognizes the most common YAML trap with templates: an unquoted `${{ … }}` inside a flow
/// collection (`{to: ${{ input.email }}}`), where `{` and `}` are YAML syntax, or holding `: `
/// (`${{ {'a': 1} }}`), which YAML reads as a mapping. libyaml fails on both.
enum FlowTemplateHint {
    /// A better location and hint for a YAML error on a line holding an unquoted `${{` that YAML
    /// cannot read as plain text.
    static func hint(forErrorAt span: SourceSpan, in source: String) -> (span: SourceSpan, text: String)? {
        let lines = LineBreaks.normalized(source).split(separator: "\n", omittingEmptySubsequences: false)
        for lineNumber in stride(from: span.line, through: max(1, span.line - 3), by: -1) where lineNumber <= lines.count {
            let line = Array(lines[lineNumber - 1].unicodeScalars)
            if let column = unquotedTemplateInFlow(line) {
                return (SourceSpan(line: lineNumber, column: column + 1),
                        "inside { } or [ ], write the value in quotes: \"${{ … }}\"")
            }
            if lineNumber == span.line, let column = unquotedTemplate(line), column < span.column - 1 {
                return (SourceSpan(line: lineNumber, column: column + 1),
                        "YAML reads ': ' and ' #' in plain text as syntax: write the value in quotes: \"${{ … }}\"")
            }
        }
        return nil
    }

    /// The 0-based column of the first `${{` outside quotes on this line.
    private static func unquotedTemplate(_ line: [Unicode.Scalar]) -> Int? {
        var quote: Unicode.Scalar?
        for index in line.indices {
            let scalar = line[index]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "'" || scalar == "\"" {
                quote = scalar
            } else if scalar == "$", index + 2 < line.count, line[index + 1] == "{", line[index + 2] == "{" {
                return index
            }
        }
        return nil
    }

    /// The 0-based column of an unquoted `${{` that sits inside a flow collection on this line.
    private static func unquotedTemplateInFlow(_ line: [Unicode.Scalar]) -> Int? {
        var depth = 0
        var quote: Unicode.Scalar?
        var index = 0
        while index < line.count {
            let scalar = line[index]
            if let open = quote {
                if scalar == open { quote = nil }
            } else if scalar == "'" || scalar == "\"" {
                quote = scalar
            } else if scalar == "$", index + 2 < line.count, line[index + 1] == "{", line[index + 2] == "{" {
                if depth > 0 { return index }
                index += 3
                continue
            } else if scalar == "[" || scalar == "{" {
                depth += 1
            } else if scalar == "]" || scalar == "}" {
                depth = max(0, depth - 1)
            }
            index += 1
        }
        return nil
    }
}
