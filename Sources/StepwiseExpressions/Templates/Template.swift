/// A YAML scalar that may embed expressions: literal text and `${{ expression }}` parts.
///
/// A template that is exactly one `${{ }}` (surrounding spaces allowed) keeps the expression's
/// type when rendered; any other template renders to a string, with each value interpolated as
/// text (strings as they are, lists and maps as compact JSON, other values as JSON without quotes).
public struct Template: Sendable, Hashable {
    /// One piece of a template.
    public enum Part: Sendable, Hashable {
        case text(String)
        /// An embedded expression; `offset` is where its source starts in the template text.
        case expression(CELExpression, source: String, offset: Int)
    }

    public let parts: [Part]

    /// Splits `text` into literal and expression parts, parsing each expression.
    ///
    /// Throws for `${{` without a closing `}}` and for expression syntax errors, with the offset
    /// in `text` so callers can point at the exact column.
    public init(parsing text: String) throws(ParseError) {
        var scanner = TemplateScanner(text)
        parts = try scanner.scan()
    }

    /// A template of plain text.
    public init(text: String) {
        parts = text.isEmpty ? [] : [.text(text)]
    }

    /// Whether the template contains no expression.
    public var isLiteral: Bool { expressions.isEmpty }

    /// The single expression, when the template is exactly one `${{ }}` and keeps its type.
    public var singleExpression: CELExpression? {
        guard case .expression(let expression, _, _) = parts.only else { return nil }
        return expression
    }

    /// Every embedded expression with its offset in the template text.
    public var expressions: [(expression: CELExpression, offset: Int)] {
        parts.compactMap { part in
            guard case .expression(let expression, _, let offset) = part else { return nil }
            return (expression, offset)
        }
    }

    /// Renders the template: a single expression's value as is, otherwise the interpolated string.
    public func render(_ variables: [String: Value], limits: EvaluationLimits = .standard) throws(EvaluationError) -> Value {
        if case .expression(let expression, _, let offset) = parts.only {
            return try Self.evaluate(expression, at: offset, variables, limits: limits)
        }
        var output = ""
        for part in parts {
            switch part {
            case .text(let text): output += text
            case .expression(let expression, _, let offset):
                output += Self.interpolated(try Self.evaluate(expression, at: offset, variables, limits: limits))
            }
        }
        return .string(output)
    }

    /// Evaluates an embedded expression; error offsets become offsets in the template text.
    private static func evaluate(
        _ expression: CELExpression, at offset: Int, _ variables: [String: Value], limits: EvaluationLimits
    ) throws(EvaluationError) -> Value {
        do {
            return try expression.evaluate(variables, limits: limits)
        } catch var error {
            error.offset = offset + (error.offset ?? 0)
            throw error
        }
    }

    /// How a value reads inside text: strings verbatim, lists and maps as compact JSON, and the
    /// scalars JSON writes as strings (timestamps, durations, bytes, types) without the quotes.
    static func interpolated(_ value: Value) -> String {
        switch value {
        case .string(let s): return s
        case .optional(let wrapped): return interpolated(wrapped ?? .null)
        case .list, .map: return value.jsonText()
        default:
            let json = value.jsonText()
            guard json.hasPrefix("\""), case .string(let text)? = try? Value(json: json) else { return json }
            return text
        }
    }
}

extension Array {
    /// The element of a one-element array.
    fileprivate var only: Element? { count == 1 ? first : nil }
}
