/// Finds the `${{ … }}` parts of a template. The closing `}}` is the first one outside string
/// literals and outside the expression's own braces, so `${{ {'a': {'b': 1}} }}` and
/// `${{ "}}" }}` work.
struct TemplateScanner {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ text: String) {
        scalars = Array(text.unicodeScalars)
    }

    mutating func scan() throws(ParseError) -> [Template.Part] {
        var parts: [Template.Part] = []
        var text = String.UnicodeScalarView()
        while position < scalars.count {
            guard startsExpression(at: position) else {
                text.append(scalars[position])
                position += 1
                continue
            }
            if !text.isEmpty { parts.append(.text(String(text))) }
            text = String.UnicodeScalarView()
            parts.append(try expressionPart())
        }
        if !text.isEmpty { parts.append(.text(String(text))) }
        return Self.trimmingSingleExpression(parts)
    }

    private func startsExpression(at index: Int) -> Bool {
        index + 2 < scalars.count && scalars[index] == "$" && scalars[index + 1] == "{" && scalars[index + 2] == "{"
    }

    private mutating func expressionPart() throws(ParseError) -> Template.Part {
        let opening = position
        let start = position + 3
        guard let end = closingOffset(from: start) else {
            throw ParseError("'${{' is never closed with '}}'", offset: opening)
        }
        let source = String(String.UnicodeScalarView(scalars[start..<end]))
        position = end + 2
        guard !source.allSatisfy(\.isWhitespace) else {
            throw ParseError("empty expression in '${{ }}'", offset: opening)
        }
        do {
            return .expression(try Parser.parse(source), source: source, offset: start)
        } catch {
            throw error.shifted(by: start)
        }
    }

    private func closingOffset(from start: Int) -> Int? {
        var index = start
        var depth = 0
        var quote: Unicode.Scalar?
        while index < scalars.count {
            let scalar = scalars[index]
            if let open = quote {
                if scalar == "\\" { index += 2; continue }
                if scalar == open { quote = nil }
            } else if scalar == "'" || scalar == "\"" {
                quote = scalar
            } else if scalar == "{" {
                depth += 1
            } else if scalar == "}" {
                if depth == 0, index + 1 < scalars.count, scalars[index + 1] == "}" { return index }
                depth = max(0, depth - 1)
            }
            index += 1
        }
        return nil
    }

    /// `"  ${{ x }}  "` is a single expression that keeps its type: blank text around it is dropped.
    private static func trimmingSingleExpression(_ parts: [Template.Part]) -> [Template.Part] {
        let expressions = parts.filter { if case .expression = $0 { true } else { false } }
        let blankText = parts.allSatisfy { part in
            if case .text(let text) = part { return text.allSatisfy(\.isWhitespace) }
            return true
        }
        return expressions.count == 1 && blankText ? expressions : parts
    }
}
