/// Parses CEL source text into a `CELExpression` (google/cel-spec `doc/langdef.md`, "Syntax"),
/// expanding the standard macros (`has`, `all`, `exists`, `exists_one`, `map`, `filter`, the
/// two-variable forms, `cel.bind`, `optMap`, `optFlatMap`).
///
/// Nesting is bounded (`maximumDepth`) so that hostile input cannot exhaust the stack.
public struct Parser {
    /// The deepest nesting of sub-expressions accepted: far beyond what people write, and low
    /// enough that parsing, checking and evaluating stay within a 512 KiB thread stack in debug builds.
    public static let maximumDepth = 50
    /// The longest source accepted, in Unicode scalars.
    public static let maximumLength = 100_000

    static let reservedWords: Set<String> = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ]

    private let tokens: [Token]
    private var index = 0
    private var depth = 0

    private init(tokens: [Token]) {
        self.tokens = tokens
    }

    /// Parses a whole expression; anything after it is an error.
    public static func parse(_ source: String) throws(ParseError) -> CELExpression {
        guard source.unicodeScalars.count <= maximumLength else {
            throw ParseError("expression is longer than \(maximumLength) characters", offset: maximumLength)
        }
        var parser = Parser(tokens: try Lexer.tokens(of: source))
        let expression = try parser.parseExpression()
        guard parser.current.kind == .end else {
            throw ParseError("unexpected \(parser.current.spelling) after the end of the expression", offset: parser.current.offset)
        }
        return expression
    }

    // MARK: Token access

    private var current: Token { tokens[min(index, tokens.count - 1)] }

    private func token(ahead: Int) -> Token { tokens[min(index + ahead, tokens.count - 1)] }

    private mutating func advance() -> Token {
        let token = current
        if index < tokens.count - 1 { index += 1 }
        return token
    }

    private func isAt(_ punctuation: Punctuation) -> Bool { current.kind == .punctuation(punctuation) }

    private mutating func consume(_ punctuation: Punctuation) -> Bool {
        guard isAt(punctuation) else { return false }
        _ = advance()
        return true
    }

    private mutating func expectClosing(_ closing: Punctuation, of opening: Token, context: String) throws(ParseError) {
        guard !consume(closing) else { return }
        throw ParseError(
            "expected '\(closing.rawValue)' to close \(context) opened at ", relatedOffset: opening.offset,
            ", found \(current.spelling)", offset: current.offset)
    }

    private mutating func descend() throws(ParseError) {
        depth += 1
        guard depth <= Self.maximumDepth else {
            throw ParseError("expression is nested more than \(Self.maximumDepth) levels deep", offset: current.offset)
        }
    }

    // MARK: Grammar

    private mutating func parseExpression() throws(ParseError) -> CELExpression {
        try descend()
        defer { depth -= 1 }
        let condition = try parseBinary(minimumPrecedence: 1)
        guard isAt(.question) else { return condition }
        let question = advance()
        let then = try parseBinary(minimumPrecedence: 1)
        guard consume(.colon) else {
            throw ParseError(
                "expected ':' in conditional expression started by '?' at ", relatedOffset: question.offset,
                ", found \(current.spelling)", offset: current.offset)
        }
        let otherwise = try parseExpression()
        return CELExpression(.conditional(condition, then, otherwise), at: question.offset)
    }

    private func binaryOperator() -> BinaryOperator? {
        switch current.kind {
        case .identifier("in"): .in
        case .punctuation(let p): BinaryOperator(rawValue: p.rawValue)
        default: nil
        }
    }

    /// Precedence climbing: one recursion per operator rather than per precedence level, which
    /// keeps the stack shallow for deeply parenthesized input.
    private mutating func parseBinary(minimumPrecedence: Int) throws(ParseError) -> CELExpression {
        var left = try parseUnary()
        var chain = 0
        while let op = binaryOperator(), op.precedence >= minimumPrecedence {
            let token = advance()
            chain += 1
            guard depth + chain <= Self.maximumDepth else {
                throw ParseError(
                    "expression is nested more than \(Self.maximumDepth) levels deep (each operator of a chain counts one)", offset: token.offset)
            }
            let right = try parseBinary(minimumPrecedence: op.precedence + 1)
            left = CELExpression(.binary(op, left, right), at: token.offset)
        }
        return left
    }

    private func isNumberLiteral(_ token: Token) -> Bool {
        switch token.kind {
        case .int, .double: true
        default: false
        }
    }

    private mutating func parseUnary() throws(ParseError) -> CELExpression {
        guard case .punctuation(let p) = current.kind, p == .not || p == .minus else { return try parseMember() }
        var operators: [Token] = []
        while isAt(p) {
            // The last '-' before a number belongs to the literal: '-9223372036854775808' is in range.
            if p == .minus, isNumberLiteral(token(ahead: 1)) { break }
            operators.append(advance())
        }
        guard operators.count <= Self.maximumDepth else {
            throw ParseError("too many consecutive '\(p.rawValue)' operators", offset: current.offset)
        }
        var operand = try parseMember()
        let op: UnaryOperator = p == .not ? .not : .negate
        for token in operators.reversed() { operand = CELExpression(.unary(op, operand), at: token.offset) }
        return operand
    }

    private mutating func parseMember() throws(ParseError) -> CELExpression {
        var expression = try parsePrimary()
        var chain = 0
        while isAt(.dot) || isAt(.leftBracket) {
            chain += 1
            guard depth + chain <= Self.maximumDepth else {
                throw ParseError("expression is nested more than \(Self.maximumDepth) levels deep", offset: current.offset)
            }
            expression = isAt(.dot) ? try parseSelection(of: expression) : try parseIndex(of: expression)
        }
        return expression
    }

    private mutating func parseSelection(of operand: CELExpression) throws(ParseError) -> CELExpression {
        let dot = advance()
        let isOptional = consume(.question)
        let nameToken = advance()
        let name: String
        switch nameToken.kind {
        case .identifier(let identifier): name = identifier
        case .quotedIdentifier(let quoted):
            return CELExpression(.select(operand, field: quoted, isOptional: isOptional), at: nameToken.offset)
        default:
            throw ParseError("expected a field or method name after '.\(isOptional ? "?" : "")', found \(nameToken.spelling)", offset: nameToken.offset)
        }
        guard isAt(.leftParenthesis), !isOptional else {
            return CELExpression(.select(operand, field: name, isOptional: isOptional), at: nameToken.offset)
        }
        let open = advance()
        let arguments = try parseArguments(closing: open, context: "call of \(name)()")
        return try Macros.expandMethod(name, target: operand, arguments: arguments, at: nameToken.offset, dot: dot.offset)
    }

    private mutating func parseIndex(of operand: CELExpression) throws(ParseError) -> CELExpression {
        let open = advance()
        let isOptional = consume(.question)
        let index = try parseExpression()
        try expectClosing(.rightBracket, of: open, context: "index")
        return CELExpression(.index(operand, index, isOptional: isOptional), at: open.offset)
    }

    private mutating func parseArguments(closing open: Token, context: String) throws(ParseError) -> [CELExpression] {
        var arguments: [CELExpression] = []
        if consume(.rightParenthesis) { return arguments }
        repeat {
            arguments.append(try parseExpression())
        } while consume(.comma)
        try expectClosing(.rightParenthesis, of: open, context: context)
        return arguments
    }

    private mutating func parsePrimary() throws(ParseError) -> CELExpression {
        let token = current
        switch token.kind {
        case .identifier(let name):
            _ = advance()
            return try parseIdentifier(name, token: token)
        case .punctuation(.dot):
            // A leading '.' names the root scope; Stepwise has no packages, so it changes nothing.
            _ = advance()
            guard case .identifier(let name) = current.kind else {
                throw ParseError("expected an identifier after leading '.', found \(current.spelling)", offset: current.offset)
            }
            return try parseIdentifier(name, token: advance())
        case .punctuation(.leftParenthesis):
            _ = advance()
            let inner = try parseExpression()
            try expectClosing(.rightParenthesis, of: token, context: "parenthesis")
            return inner
        case .punctuation(.leftBracket):
            _ = advance()
            return try parseList(open: token)
        case .punctuation(.leftBrace):
            _ = advance()
            return try parseMap(open: token)
        case .punctuation(.minus):
            _ = advance()
            return try parseNegativeNumber(minus: token)
        default:
            return try parseLiteral()
        }
    }

    private mutating func parseIdentifier(_ name: String, token: Token) throws(ParseError) -> CELExpression {
        if isAt(.leftParenthesis) {
            let open = advance()
            let arguments = try parseArguments(closing: open, context: "call of \(name)()")
            return try Macros.expandGlobal(name, arguments: arguments, at: token.offset)
        }
        switch name {
        case "true": return CELExpression(.literal(.bool(true)), at: token.offset)
        case "false": return CELExpression(.literal(.bool(false)), at: token.offset)
        case "null": return CELExpression(.literal(.null), at: token.offset)
        case "in": throw ParseError("unexpected 'in': it needs a value on its left", offset: token.offset)
        default:
            guard !Self.reservedWords.contains(name) else {
                throw ParseError("'\(name)' is a reserved word and cannot be used as an identifier", offset: token.offset)
            }
            return CELExpression(.identifier(name), at: token.offset)
        }
    }

    private mutating func parseList(open: Token) throws(ParseError) -> CELExpression {
        var elements: [ListElement] = []
        while !isAt(.rightBracket) {
            let isOptional = consume(.question)
            elements.append(ListElement(try parseExpression(), isOptional: isOptional))
            guard consume(.comma) else { break }
        }
        try expectClosing(.rightBracket, of: open, context: "list")
        return CELExpression(.list(elements), at: open.offset)
    }

    private mutating func parseMap(open: Token) throws(ParseError) -> CELExpression {
        var entries: [MapEntry] = []
        while !isAt(.rightBrace) {
            let isOptional = consume(.question)
            let key = try parseExpression()
            guard consume(.colon) else {
                throw ParseError("expected ':' after map key, found \(current.spelling)", offset: current.offset)
            }
            entries.append(MapEntry(key: key, value: try parseExpression(), isOptional: isOptional))
            guard consume(.comma) else { break }
        }
        try expectClosing(.rightBrace, of: open, context: "map")
        return CELExpression(.map(entries), at: open.offset)
    }

    private mutating func parseNegativeNumber(minus: Token) throws(ParseError) -> CELExpression {
        let number = advance()
        switch number.kind {
        case .int(let digits, let radix):
            guard let magnitude = UInt64(digits, radix: radix), magnitude <= UInt64(Int64.max) + 1 else {
                throw ParseError("integer literal -\(digits) is out of range for int", offset: minus.offset)
            }
            let value = magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
            return CELExpression(.literal(.int(value)), at: minus.offset)
        case .double(let value):
            return CELExpression(.literal(.double(-value)), at: minus.offset)
        default:
            throw ParseError("expected a number after '-', found \(number.spelling)", offset: number.offset)
        }
    }

    private mutating func parseLiteral() throws(ParseError) -> CELExpression {
        let token = advance()
        let literal: Literal
        switch token.kind {
        case .int(let digits, let radix):
            guard let value = Int64(digits, radix: radix) else {
                throw ParseError("integer literal \(radix == 16 ? "0x" : "")\(digits) is out of range for int; add 'u' for uint", offset: token.offset)
            }
            literal = .int(value)
        case .uint(let digits, let radix):
            guard let value = UInt64(digits, radix: radix) else {
                throw ParseError("integer literal \(digits)u is out of range for uint", offset: token.offset)
            }
            literal = .uint(value)
        case .double(let value): literal = .double(value)
        case .string(let value): literal = .string(value)
        case .bytes(let value): literal = .bytes(value)
        case .end:
            throw ParseError("unexpected end of expression", offset: token.offset)
        case .quotedIdentifier(let name):
            throw ParseError("quoted name '`\(name)`' can only follow '.'", offset: token.offset)
        default:
            throw ParseError("unexpected \(token.spelling)", offset: token.offset)
        }
        return CELExpression(.literal(literal), at: token.offset)
    }
}
