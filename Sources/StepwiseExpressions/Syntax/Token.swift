/// One lexical unit of a CEL expression, with its position in the source.
struct Token: Equatable {
    enum Kind: Equatable {
        case identifier(String)
        /// A backtick-quoted field name, as in ``{'a-b': 1}.`a-b` ``.
        case quotedIdentifier(String)
        /// Integer digits without sign, prefix or suffix; the parser range-checks them (see `Parser`).
        case int(digits: String, radix: Int)
        case uint(digits: String, radix: Int)
        case double(Double)
        case string(String)
        case bytes([UInt8])
        case punctuation(Punctuation)
        case end
    }

    var kind: Kind
    /// Offset of the first scalar, in Unicode scalars.
    var offset: Int
    /// Offset just past the last scalar.
    var endOffset: Int

    /// The token as a person would point at it in a message.
    var spelling: String {
        switch kind {
        case .identifier(let name): "'\(name)'"
        case .quotedIdentifier(let name): "'`\(name)`'"
        case .int(let digits, let radix), .uint(let digits, let radix): "number '\(radix == 16 ? "0x" : "")\(digits)'"
        case .double(let value): "number '\(value)'"
        case .string: "string literal"
        case .bytes: "bytes literal"
        case .punctuation(let p): "'\(p.rawValue)'"
        case .end: "end of expression"
        }
    }
}

/// Operators and delimiters of CEL.
enum Punctuation: String, CaseIterable {
    case leftParenthesis = "("
    case rightParenthesis = ")"
    case leftBracket = "["
    case rightBracket = "]"
    case leftBrace = "{"
    case rightBrace = "}"
    case dot = "."
    case comma = ","
    case colon = ":"
    case question = "?"
    case not = "!"
    case minus = "-"
    case plus = "+"
    case star = "*"
    case slash = "/"
    case percent = "%"
    case less = "<"
    case lessOrEqual = "<="
    case greater = ">"
    case greaterOrEqual = ">="
    case equal = "=="
    case notEqual = "!="
    case and = "&&"
    case or = "||"
}
