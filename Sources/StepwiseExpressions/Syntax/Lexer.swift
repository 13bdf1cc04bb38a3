/// Splits CEL source text into tokens (google/cel-spec `doc/langdef.md`, "Syntax").
///
/// Positions are offsets in Unicode scalars. String and bytes literals are decoded here, with every
/// escape form of the spec; a malformed literal is a `ParseError` at the offending escape.
struct Lexer {
    private let scalars: [Unicode.Scalar]
    private var position = 0

    init(_ source: String) {
        scalars = Array(source.unicodeScalars)
    }

    /// All tokens of the source, ending with `.end`.
    static func tokens(of source: String) throws(ParseError) -> [Token] {
        var lexer = Lexer(source)
        var tokens: [Token] = []
        while true {
            let token = try lexer.next()
            tokens.append(token)
            if token.kind == .end { return tokens }
        }
    }

    private func peek(_ ahead: Int = 0) -> Unicode.Scalar? {
        let index = position + ahead
        return index < scalars.count ? scalars[index] : nil
    }

    mutating func next() throws(ParseError) -> Token {
        skipWhitespaceAndComments()
        let start = position
        guard let scalar = peek() else { return Token(kind: .end, offset: start, endOffset: start) }
        let kind: Token.Kind
        if let literalStart = stringLiteralPrefixLength() {
            kind = try lexStringLiteral(prefixLength: literalStart)
        } else if scalar.isIdentifierStart {
            kind = .identifier(lexIdentifier())
        } else if scalar.isDigit || (scalar == "." && peek(1)?.isDigit == true) {
            kind = try lexNumber()
        } else if scalar == "`" {
            kind = .quotedIdentifier(try lexQuotedIdentifier())
        } else {
            kind = .punctuation(try lexPunctuation())
        }
        return Token(kind: kind, offset: start, endOffset: position)
    }

    private mutating func skipWhitespaceAndComments() {
        while let scalar = peek() {
            if [" ", "\t", "\n", "\r", "\u{0C}"].contains(scalar) {
                position += 1
            } else if scalar == "/", peek(1) == "/" {
                while let c = peek(), c != "\n" { position += 1 }
            } else {
                return
            }
        }
    }

    private mutating func lexIdentifier() -> String {
        var name = String.UnicodeScalarView()
        while let scalar = peek(), scalar.isIdentifierContinuation {
            name.append(scalar)
            position += 1
        }
        return String(name)
    }

    private mutating func lexQuotedIdentifier() throws(ParseError) -> String {
        let start = position
        position += 1
        var name = String.UnicodeScalarView()
        while let scalar = peek(), scalar != "`" {
            guard scalar.isQuotedIdentifierCharacter else {
                throw ParseError("invalid character '\(scalar)' in quoted field name", offset: position)
            }
            name.append(scalar)
            position += 1
        }
        guard peek() == "`" else { throw ParseError("unterminated quoted field name", offset: start) }
        position += 1
        guard !name.isEmpty else { throw ParseError("empty quoted field name", offset: start) }
        return String(name)
    }

    private mutating func lexPunctuation() throws(ParseError) -> Punctuation {
        let two = peek(1).map { String(Character(peek() ?? " ")) + String(Character($0)) } ?? ""
        if let punctuation = Punctuation(rawValue: two) {
            position += 2
            return punctuation
        }
        guard let scalar = peek(), let punctuation = Punctuation(rawValue: String(Character(scalar))) else {
            let shown = peek().map { String($0) } ?? ""
            if shown == "=" { throw ParseError("unexpected '=': use '==' to compare", offset: position) }
            if shown == "&" || shown == "|" {
                throw ParseError("unexpected '\(shown)': use '\(shown)\(shown)' for logical \(shown == "&" ? "and" : "or")", offset: position)
            }
            throw ParseError("unexpected character '\(shown)'", offset: position)
        }
        position += 1
        return punctuation
    }

    // MARK: Numbers

    private mutating func lexNumber() throws(ParseError) -> Token.Kind {
        let start = position
        if peek() == "0", peek(1) == "x" || peek(1) == "X" {
            position += 2
            let digits = consume(while: \.isHexDigit)
            guard !digits.isEmpty else { throw ParseError("expected hex digits after '0x'", offset: start) }
            return try integerToken(digits: digits, radix: 16, start: start)
        }
        let integerPart = consume(while: \.isDigit)
        var isDouble = false
        if peek() == ".", peek(1)?.isDigit == true {
            isDouble = true
            position += 1
            _ = consume(while: \.isDigit)
        }
        if peek() == "e" || peek() == "E" {
            let exponentStart = position
            position += 1
            if peek() == "+" || peek() == "-" { position += 1 }
            guard !consume(while: \.isDigit).isEmpty else {
                throw ParseError("expected digits in the exponent of a number", offset: exponentStart)
            }
            isDouble = true
        }
        guard isDouble else { return try integerToken(digits: integerPart, radix: 10, start: start) }
        let text = String(String.UnicodeScalarView(scalars[start..<position]))
        guard let value = Double(text) else { throw ParseError("invalid number '\(text)'", offset: start) }
        try rejectTrailingIdentifier(after: text, start: start)
        return .double(value)
    }

    private mutating func integerToken(digits: String, radix: Int, start: Int) throws(ParseError) -> Token.Kind {
        if peek() == "u" || peek() == "U" {
            position += 1
            try rejectTrailingIdentifier(after: digits, start: start)
            return .uint(digits: digits, radix: radix)
        }
        try rejectTrailingIdentifier(after: digits, start: start)
        return .int(digits: digits, radix: radix)
    }

    /// `12abc` is one malformed number, not the number 12 followed by the identifier abc.
    private func rejectTrailingIdentifier(after text: String, start: Int) throws(ParseError) {
        guard let next = peek(), next.isIdentifierContinuation else { return }
        throw ParseError("invalid number: unexpected '\(next)' after '\(text)'", offset: position)
    }

    private mutating func consume(while predicate: (Unicode.Scalar) -> Bool) -> String {
        var text = String.UnicodeScalarView()
        while let scalar = peek(), predicate(scalar) {
            text.append(scalar)
            position += 1
        }
        return String(text)
    }

    // MARK: String and bytes literals

    /// The length of an `r`/`b`/`rb`/`br` prefix (any case) when a string literal starts here.
    private func stringLiteralPrefixLength() -> Int? {
        var length = 0
        var seenRaw = false
        var seenBytes = false
        while let scalar = peek(length) {
            switch scalar {
            case "r" where !seenRaw, "R" where !seenRaw:
                seenRaw = true
            case "b" where !seenBytes, "B" where !seenBytes:
                seenBytes = true
            case "\"", "'":
                return length
            default:
                return nil
            }
            length += 1
        }
        return nil
    }

    private mutating func lexStringLiteral(prefixLength: Int) throws(ParseError) -> Token.Kind {
        let start = position
        let prefix = scalars[position..<position + prefixLength].map { Character($0).lowercased() }
        let isRaw = prefix.contains("r")
        let isBytes = prefix.contains("b")
        position += prefixLength
        guard let quote = peek() else { throw ParseError("unterminated string literal", offset: start) }
        let isTriple = peek(1) == quote && peek(2) == quote
        position += isTriple ? 3 : 1
        var decoder = LiteralDecoder(isBytes: isBytes)
        while true {
            guard let scalar = peek() else {
                throw ParseError("unterminated \(isBytes ? "bytes" : "string") literal", offset: start)
            }
            if scalar == quote, !isTriple || (peek(1) == quote && peek(2) == quote) {
                position += isTriple ? 3 : 1
                return isBytes ? .bytes(decoder.bytes) : .string(decoder.string)
            }
            if !isTriple, scalar == "\n" || scalar == "\r" {
                throw ParseError("newline in \(isBytes ? "bytes" : "string") literal: use '\\n' or a triple-quoted literal", offset: position)
            }
            if scalar == "\\", !isRaw {
                try lexEscape(into: &decoder, isBytes: isBytes)
            } else {
                decoder.append(scalar)
                position += 1
            }
        }
    }

    private mutating func lexEscape(into decoder: inout LiteralDecoder, isBytes: Bool) throws(ParseError) {
        let start = position
        position += 1
        guard let code = peek() else { throw ParseError("unterminated escape sequence", offset: start) }
        position += 1
        switch code {
        case "\\", "?", "\"", "'", "`": decoder.append(code)
        case "a": decoder.append("\u{07}")
        case "b": decoder.append("\u{08}")
        case "f": decoder.append("\u{0C}")
        case "n": decoder.append("\n")
        case "r": decoder.append("\r")
        case "t": decoder.append("\t")
        case "v": decoder.append("\u{0B}")
        case "x", "X": decoder.appendByte(try lexHexEscape(digits: 2, start: start))
        case "u", "U":
            guard !isBytes else {
                throw ParseError("'\\\(code)' escapes are not allowed in bytes literals; use '\\x'", offset: start)
            }
            let value = try lexHexEscape(digits: code == "u" ? 4 : 8, start: start)
            guard let scalar = Unicode.Scalar(value) else {
                throw ParseError("invalid code point U+\(String(value, radix: 16, uppercase: true)) in escape", offset: start)
            }
            decoder.append(scalar)
        case "0"..."3":
            decoder.appendByte(try lexOctalEscape(first: code, start: start))
        default:
            throw ParseError("invalid escape sequence '\\\(code)'", offset: start)
        }
    }

    private mutating func lexHexEscape(digits count: Int, start: Int) throws(ParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<count {
            guard let scalar = peek(), let digit = scalar.hexDigitValue else {
                throw ParseError("expected \(count) hex digits in escape sequence", offset: start)
            }
            value = value * 16 + digit
            position += 1
        }
        return value
    }

    private mutating func lexOctalEscape(first: Unicode.Scalar, start: Int) throws(ParseError) -> UInt32 {
        var value = first.value - 48
        for _ in 0..<2 {
            guard let scalar = peek(), ("0"..."7").contains(scalar) else {
                throw ParseError("expected three octal digits in escape sequence", offset: start)
            }
            value = value * 8 + scalar.value - 48
            position += 1
        }
        return value
    }
}

/// Accumulates the content of a string or bytes literal.
///
/// In a bytes literal, `\x` and octal escapes are raw bytes and other characters are UTF-8; in a
/// string literal they are code points (`'\xff'` is "ÿ").
private struct LiteralDecoder {
    let isBytes: Bool
    private(set) var bytes: [UInt8] = []
    private var scalars = String.UnicodeScalarView()

    init(isBytes: Bool) {
        self.isBytes = isBytes
    }

    var string: String { String(scalars) }

    mutating func append(_ scalar: Unicode.Scalar) {
        if isBytes {
            bytes.append(contentsOf: Array(String(scalar).utf8))
        } else {
            scalars.append(scalar)
        }
    }

    mutating func appendByte(_ value: UInt32) {
        if isBytes {
            bytes.append(UInt8(truncatingIfNeeded: value))
        } else if let scalar = Unicode.Scalar(value) {
            scalars.append(scalar)
        }
    }
}

extension Unicode.Scalar {
    var isDigit: Bool { ("0"..."9").contains(self) }
    var isHexDigit: Bool { hexDigitValue != nil }
    var isIdentifierStart: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) || self == "_" }
    var isIdentifierContinuation: Bool { isIdentifierStart || isDigit }
    /// Characters allowed between backticks: identifier characters plus `.`, `-`, `/`, `~`, ` `.
    var isQuotedIdentifierCharacter: Bool { isIdentifierContinuation || [".", "-", "/", "~", " "].contains(self) }

    var hexDigitValue: UInt32? {
        switch self {
        case "0"..."9": value - 48
        case "a"..."f": value - 87
        case "A"..."F": value - 55
        default: nil
        }
    }
}
