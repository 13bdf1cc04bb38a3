/// Prints a `CELExpression` as CEL source text that parses back to the same tree.
///
/// Parentheses are added only where precedence requires them; macros print in their call form.
struct ExpressionPrinter {
    /// Binding strength of a printed form: operands weaker than their context get parentheses.
    private enum Strength: Int, Comparable {
        case conditional = 0, or, and, relation, addition, multiplication, unary, member

        static func < (lhs: Strength, rhs: Strength) -> Bool { lhs.rawValue < rhs.rawValue }

        init(_ op: BinaryOperator) {
            self = Strength(rawValue: op.precedence) ?? .member
        }
    }

    static func print(_ expression: CELExpression) -> String {
        render(expression)
    }

    private static func strength(of expression: CELExpression) -> Strength {
        switch expression.kind {
        case .conditional: .conditional
        case .binary(let op, _, _): Strength(op)
        case .unary: .unary
        default: .member
        }
    }

    private static func render(_ expression: CELExpression, atLeast minimum: Strength) -> String {
        let text = render(expression)
        return strength(of: expression) < minimum ? "(\(text))" : text
    }

    private static func render(_ expression: CELExpression) -> String {
        switch expression.kind {
        case .literal(let literal): return render(literal)
        case .identifier(let name): return name
        case .select(let operand, let field, let isOptional):
            return render(operand, atLeast: .member) + (isOptional ? ".?" : ".") + fieldName(field)
        case .presenceTest(let operand, let field):
            return "has(" + render(operand, atLeast: .member) + "." + fieldName(field) + ")"
        case .index(let operand, let index, let isOptional):
            return render(operand, atLeast: .member) + "[" + (isOptional ? "?" : "") + render(index) + "]"
        case .call(let name, let arguments):
            return name + "(" + list(arguments) + ")"
        case .method(let target, let name, let arguments):
            return render(target, atLeast: .member) + "." + name + "(" + list(arguments) + ")"
        case .unary(let op, let operand):
            return renderUnary(op, operand)
        case .binary(let op, let left, let right):
            let strength = Strength(op)
            // Left-associative: an equal-strength left operand needs no parentheses, a right one does.
            let rightMinimum = Strength(rawValue: strength.rawValue + 1) ?? .member
            return render(left, atLeast: strength) + " \(op.rawValue) " + render(right, atLeast: rightMinimum)
        case .conditional(let condition, let then, let otherwise):
            return render(condition, atLeast: .or) + " ? " + render(then, atLeast: .or) + " : " + render(otherwise)
        case .list(let elements):
            return "[" + elements.map { ($0.isOptional ? "?" : "") + render($0.value) }.joined(separator: ", ") + "]"
        case .map(let entries):
            let rendered = entries.map { ($0.isOptional ? "?" : "") + render($0.key) + ": " + render($0.value) }
            return "{" + rendered.joined(separator: ", ") + "}"
        case .comprehension(let comprehension):
            let arguments = comprehension.variables + comprehension.arguments.map(render)
            return render(comprehension.range, atLeast: .member) + "." + comprehension.spelling
                + "(" + arguments.joined(separator: ", ") + ")"
        case .bind(let name, let value, let body):
            return "cel.bind(\(name), \(render(value)), \(render(body)))"
        case .optionalMap(let target, let variable, let body, let isFlat):
            return render(target, atLeast: .member) + (isFlat ? ".optFlatMap(" : ".optMap(")
                + variable + ", " + render(body) + ")"
        }
    }

    private static func renderUnary(_ op: UnaryOperator, _ operand: CELExpression) -> String {
        // '-' directly before a number would read back as a negative literal, a different tree.
        if op == .negate, case .literal(let literal) = operand.kind, literal.printsAsNumber {
            return "-(" + render(literal) + ")"
        }
        // The grammar allows runs of one operator ('--x', '!!x') but not mixed runs ('!-x').
        if case .unary(let innerOperator, _) = operand.kind, innerOperator != op {
            return op.rawValue + "(" + render(operand) + ")"
        }
        let inner = render(operand, atLeast: .unary)
        // '-2.b' reads as the negative literal -2 selected, not as -(2.b).
        if op == .negate, inner.unicodeScalars.first?.isDigit == true { return "-(" + inner + ")" }
        return op.rawValue + inner
    }

    private static func list(_ arguments: [CELExpression]) -> String {
        arguments.map { render($0) }.joined(separator: ", ")
    }

    private static func fieldName(_ name: String) -> String {
        let scalars = Array(name.unicodeScalars)
        let isPlain = scalars.first?.isIdentifierStart == true && scalars.allSatisfy(\.isIdentifierContinuation)
        return isPlain ? name : "`\(name)`"
    }

    private static func render(_ literal: Literal) -> String {
        switch literal {
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return "\(u)u"
        case .double(let d): return renderDouble(d)
        case .string(let s): return StringEscaping.quoted(s, style: .celLiteral)
        case .bytes(let bytes): return "b\"" + bytes.map(escapedByte).joined() + "\""
        }
    }

    private static func renderDouble(_ d: Double) -> String {
        guard d.isFinite else {
            return d.isNaN ? "double(\"NaN\")" : (d > 0 ? "double(\"Infinity\")" : "double(\"-Infinity\")")
        }
        return d.description
    }

    private static func escapedByte(_ byte: UInt8) -> String {
        switch byte {
        case UInt8(ascii: "\""): "\\\""
        case UInt8(ascii: "\\"): "\\\\"
        case 0x20..<0x7F: String(UnicodeScalar(byte))
        default: "\\x" + hex(UInt32(byte))
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        return digits.count < 2 ? "0" + digits : digits
    }
}

extension Literal {
    /// Whether the literal prints as a number token (non-finite doubles print as `double("…")`).
    var printsAsNumber: Bool {
        switch self {
        case .int, .uint: true
        case .double(let d): d.isFinite
        default: false
        }
    }
}

extension CELExpression: CustomStringConvertible {
    /// The expression as CEL source text; parsing it gives back an equal tree (offsets aside).
    public var description: String { ExpressionPrinter.print(self) }
}
