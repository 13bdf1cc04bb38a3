import Foundation

/// An `Upstash-Retry-Delay` expression: arithmetic in milliseconds over the variable `retried`
/// (0 before the first retry) with `+ - * /`, parentheses and `pow sqrt abs exp floor ceil round
/// min max` (`qstash/features/retry.mdx`). Parsed once at publish time, so a bad expression is a
/// publish error; evaluation is total: any result is clamped into `0…maximum`.
public struct RetryDelayExpression: Sendable, Hashable, CustomStringConvertible {
    /// The expression as published.
    public let text: String
    let root: Node

    /// The longest text accepted and the deepest nesting, so parsing stays cheap and never
    /// exhausts the stack.
    static let maximumLength = 1_024
    static let maximumDepth = 32

    /// Parses `text`; errors name the offending position.
    public init(_ text: String) throws(ProtocolError) {
        guard text.utf8.count <= Self.maximumLength else {
            throw ProtocolError("retry delay expression is longer than \(Self.maximumLength) characters")
        }
        var parser = RetryDelayParser(text)
        root = try parser.parse()
        self.text = text
    }

    /// The delay in milliseconds before the retry that follows `retried` earlier retries, clamped
    /// into `0…maximum`; a result that is not a number (`sqrt(-1)`, `0/0`) counts as 0.
    public func delay(retried: Int, maximum: WireDuration = DefaultBackoff.maximum) -> WireDuration {
        let value = root.evaluate(retried: Double(retried))
        guard value.isFinite || value == .infinity, value > 0 else { return WireDuration(milliseconds: 0) }
        guard value < Double(maximum.milliseconds) else { return maximum }
        return WireDuration(milliseconds: Int64(value.rounded()))
    }

    public var description: String { text }

    public static func == (lhs: RetryDelayExpression, rhs: RetryDelayExpression) -> Bool { lhs.text == rhs.text }
    public func hash(into hasher: inout Hasher) { hasher.combine(text) }

    /// A parsed expression.
    indirect enum Node: Sendable {
        case number(Double)
        case retried
        case negate(Node)
        case binary(Character, Node, Node)
        case call(RetryDelayFunction, [Node])

        func evaluate(retried: Double) -> Double {
            switch self {
            case .number(let value): return value
            case .retried: return retried
            case .negate(let operand): return -operand.evaluate(retried: retried)
            case .binary(let symbol, let left, let right):
                let (a, b) = (left.evaluate(retried: retried), right.evaluate(retried: retried))
                switch symbol {
                case "+": return a + b
                case "-": return a - b
                case "*": return a * b
                default: return a / b
                }
            case .call(let function, let arguments):
                return function.apply(arguments.map { $0.evaluate(retried: retried) })
            }
        }
    }
}
