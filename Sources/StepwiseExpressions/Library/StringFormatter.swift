import Foundation

/// CEL's `string.format(list)`: `%s`, `%d`, `%f`, `%e`, `%x`, `%X`, `%o`, `%b` with an optional
/// precision (`%.3f`), and `%%` for a percent sign.
struct StringFormatter {
    private let template: [Unicode.Scalar]
    private let arguments: [Value]
    private var position = 0
    private var nextArgument = 0

    init(template: String, arguments: [Value]) {
        self.template = Array(template.unicodeScalars)
        self.arguments = arguments
    }

    mutating func format() throws(EvaluationError) -> String {
        var output = ""
        while position < template.count {
            let scalar = template[position]
            position += 1
            guard scalar == "%" else {
                output.unicodeScalars.append(scalar)
                continue
            }
            output += try clause()
        }
        return output
    }

    private mutating func clause() throws(EvaluationError) -> String {
        guard position < template.count else { throw EvaluationError("format: '%' at the end of the string") }
        if template[position] == "%" {
            position += 1
            return "%"
        }
        let precision = try readPrecision()
        guard position < template.count else { throw EvaluationError("format: incomplete clause at the end of the string") }
        let verb = template[position]
        position += 1
        guard nextArgument < arguments.count else {
            throw EvaluationError("format: index \(nextArgument) out of range: only \(arguments.count) argument(s) given")
        }
        let argument = arguments[nextArgument]
        nextArgument += 1
        switch verb {
        case "s": return Self.text(of: argument)
        case "d": return try decimal(argument)
        case "f": return try floating(argument, style: "f", precision: precision ?? 6)
        case "e": return try floating(argument, style: "e", precision: precision ?? 6)
        case "x", "X": return try hexadecimal(argument, uppercase: verb == "X")
        case "o": return try integer(argument, radix: 8, clause: "o")
        case "b": return try integer(argument, radix: 2, clause: "b")
        default: throw EvaluationError("format: unrecognized formatting clause '%\(verb)'")
        }
    }

    private mutating func readPrecision() throws(EvaluationError) -> Int? {
        guard template[position] == "." else { return nil }
        position += 1
        var digits = ""
        while position < template.count, template[position].isDigit {
            digits.unicodeScalars.append(template[position])
            position += 1
        }
        guard let precision = Int(digits), precision <= 100 else {
            throw EvaluationError("format: expected a precision of 0 to 100 after '.'")
        }
        return precision
    }

    /// The `%s` text of a value: strings and bytes as they are, lists and maps with their
    /// elements (maps sorted by key text), numbers and times in CEL's string form.
    static func text(of value: Value) -> String {
        switch value {
        case .string(let s): return s
        case .bytes(let b): return String(decoding: b, as: UTF8.self)
        case .null: return "null"
        case .bool(let b): return b ? "true" : "false"
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d): return d.isFinite ? DoubleFormatting.shortest(d) : nonFinite(d)
        case .timestamp(let t): return t.description
        case .duration(let d): return d.description
        case .type(let t): return t.name
        case .optional(let wrapped): return wrapped.map { "optional(\(text(of: $0)))" } ?? "optional.none()"
        case .list(let elements): return "[" + elements.map(text(of:)).joined(separator: ", ") + "]"
        case .map(let map):
            let entries = map.entries.map { (text(of: $0.value), text(of: $1)) }.sorted { $0.0 < $1.0 }
            return "{" + entries.map { "\($0): \($1)" }.joined(separator: ", ") + "}"
        }
    }

    private static func nonFinite(_ d: Double) -> String {
        d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity")
    }

    private func decimal(_ argument: Value) throws(EvaluationError) -> String {
        switch argument {
        case .int(let i): return String(i)
        case .uint(let u): return String(u)
        case .double(let d) where !d.isFinite: return Self.nonFinite(d)
        default: throw invalid(argument, clause: "d", expected: "an integer")
        }
    }

    private func floating(_ argument: Value, style: String, precision: Int) throws(EvaluationError) -> String {
        let number: Double
        switch argument {
        case .double(let d):
            guard d.isFinite else { return Self.nonFinite(d) }
            number = d
        case .int(let i): number = Double(i)
        case .uint(let u): number = Double(u)
        default: throw invalid(argument, clause: style, expected: "a number")
        }
        return String(format: "%.\(precision)\(style)", number)
    }

    private func hexadecimal(_ argument: Value, uppercase: Bool) throws(EvaluationError) -> String {
        let digits: String
        switch argument {
        case .string(let s): digits = Array(s.utf8).map(Self.hexByte).joined()
        case .bytes(let b): digits = b.map(Self.hexByte).joined()
        default: digits = try integer(argument, radix: 16, clause: uppercase ? "X" : "x")
        }
        return uppercase ? digits.uppercased() : digits
    }

    private static func hexByte(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    private func integer(_ argument: Value, radix: Int, clause: String) throws(EvaluationError) -> String {
        switch argument {
        case .int(let i): return String(i, radix: radix)
        case .uint(let u): return String(u, radix: radix)
        default: throw invalid(argument, clause: clause, expected: "an integer")
        }
    }

    private func invalid(_ argument: Value, clause: String, expected: String) -> EvaluationError {
        EvaluationError("format: '%\(clause)' needs \(expected), got \(argument.type.name) (argument \(nextArgument - 1))")
    }
}
