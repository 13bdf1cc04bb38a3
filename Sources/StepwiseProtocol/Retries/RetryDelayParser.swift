/// A recursive-descent parser for `RetryDelayExpression`, bounded in nesting depth.
///
///     sum     = product { ("+" | "-") product }
///     product = unary { ("*" | "/") unary }
///     unary   = "-" unary | primary
///     primary = number | "retried" | name "(" sum { "," sum } ")" | "(" sum ")"
struct RetryDelayParser {
    private let bytes: [UInt8]
    private var index = 0
    private var depth = 0

    init(_ text: String) {
        bytes = Array(text.utf8)
    }

    /// The whole text as one expression.
    mutating func parse() throws(ProtocolError) -> RetryDelayExpression.Node {
        let node = try sum()
        skipSpaces()
        guard index == bytes.count else { throw failure("unexpected '\(Character(Unicode.Scalar(bytes[index])))'") }
        return node
    }

    private mutating func sum() throws(ProtocolError) -> RetryDelayExpression.Node {
        var node = try product()
        while let symbol = take(oneOf: "+-") { node = .binary(symbol, node, try product()) }
        return node
    }

    private mutating func product() throws(ProtocolError) -> RetryDelayExpression.Node {
        var node = try unary()
        while let symbol = take(oneOf: "*/") { node = .binary(symbol, node, try unary()) }
        return node
    }

    private mutating func unary() throws(ProtocolError) -> RetryDelayExpression.Node {
        try nested { (parser: inout RetryDelayParser) throws(ProtocolError) in
            if parser.take(oneOf: "-") != nil { return .negate(try parser.unary()) }
            if parser.take(oneOf: "+") != nil { return try parser.unary() }
            return try parser.primary()
        }
    }

    private mutating func primary() throws(ProtocolError) -> RetryDelayExpression.Node {
        skipSpaces()
        guard index < bytes.count else { throw failure("the expression ends too early") }
        if take(oneOf: "(") != nil {
            let node = try sum()
            try expect(")")
            return node
        }
        if isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { return .number(try number()) }
        let name = identifier()
        guard !name.isEmpty else { throw failure("unexpected '\(Character(Unicode.Scalar(bytes[index])))'") }
        if name == "retried" { return .retried }
        guard let function = RetryDelayFunction(rawValue: name) else {
            throw failure("unknown name '\(name)'; expected retried or one of \(RetryDelayFunction.allCases.map(\.rawValue).joined(separator: " "))")
        }
        try expect("(")
        var arguments = [try sum()]
        while take(oneOf: ",") != nil { arguments.append(try sum()) }
        try expect(")")
        guard arguments.count == function.arity else {
            throw failure("\(name) takes \(function.arity) argument\(function.arity == 1 ? "" : "s"), not \(arguments.count)")
        }
        return .call(function, arguments)
    }

    private mutating func nested<T>(_ body: (inout RetryDelayParser) throws(ProtocolError) -> T) throws(ProtocolError) -> T {
        depth += 1
        defer { depth -= 1 }
        guard depth <= RetryDelayExpression.maximumDepth else { throw failure("the expression nests too deeply") }
        return try body(&self)
    }

    private mutating func number() throws(ProtocolError) -> Double {
        let start = index
        while index < bytes.count, isDigit(bytes[index]) || bytes[index] == UInt8(ascii: ".") { index += 1 }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        guard let value = Double(text), value.isFinite else { throw failure("'\(text)' is not a number") }
        return value
    }

    private mutating func identifier() -> String {
        let start = index
        while index < bytes.count, (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(bytes[index] | 0x20) { index += 1 }
        return String(decoding: bytes[start..<index], as: UTF8.self)
    }

    private mutating func take(oneOf symbols: String) -> Character? {
        skipSpaces()
        guard index < bytes.count, symbols.utf8.contains(bytes[index]) else { return nil }
        index += 1
        return Character(Unicode.Scalar(bytes[index - 1]))
    }

    private mutating func expect(_ symbol: Character) throws(ProtocolError) {
        guard take(oneOf: String(symbol)) != nil else { throw failure("expected '\(symbol)'") }
    }

    private mutating func skipSpaces() {
        while index < bytes.count, bytes[index] == UInt8(ascii: " ") || bytes[index] == UInt8(ascii: "\t") { index += 1 }
    }

    private func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private func failure(_ message: String) -> ProtocolError {
        ProtocolError("\(message) at offset \(index) of the retry delay expression")
    }
}
