/// Reads JSON text (RFC 8259) into a `Value` without losing integer precision.
///
/// Integers without fraction or exponent become `int` when they fit in 64 bits signed, `uint` when
/// they fit unsigned, and `double` otherwise. Duplicate object keys are an error, not a silent overwrite.
struct JSONReader {
    /// The deepest document read: records wrap the values they hold (`Value.maximumNesting`) in
    /// a few levels of their own, which stay within it.
    static let maximumDepth = 512

    private let bytes: [UInt8]
    private let maximumDepth: Int
    private var position = 0
    private var depth = 0

    init(_ text: String, maximumDepth: Int = Self.maximumDepth) {
        bytes = Array(text.utf8)
        self.maximumDepth = maximumDepth
    }

    mutating func readDocument() throws(JSONSyntaxError) -> Value {
        skipWhitespace()
        let value = try readValue()
        skipWhitespace()
        guard position == bytes.count else { throw error("unexpected \(currentCharacter) after the JSON value") }
        return value
    }

    /// The character at `position` as an error names it: quoted when it is printable ASCII, else
    /// by its code point too (a byte order mark, a non-breaking space and a control character
    /// cannot be told apart by looking).
    private var currentCharacter: String {
        let text = currentText
        guard let scalar = text.unicodeScalars.first else { return "end of input" }
        if (0x20...0x7E).contains(scalar.value) { return "'\(text)'" }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
        if scalar.value == 0xFEFF { return "\(code) (a byte order mark; send the JSON without it)" }
        return scalar.value < 0x80 ? code : "'\(text)' (\(code))"
    }

    /// The character at `position` (all of its UTF-8 bytes); empty at the end.
    private var currentText: String {
        guard position < bytes.count else { return "" }
        let lead = bytes[position]
        let length = lead < 0xC0 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
        return String(decoding: bytes[position..<min(bytes.count, position + length)], as: UTF8.self)
    }

    private func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(message, offset: position)
    }

    private mutating func skipWhitespace() {
        while position < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[position]) { position += 1 }
    }

    private mutating func readValue() throws(JSONSyntaxError) -> Value {
        guard position < bytes.count else { throw error("expected a value, found end of input") }
        switch bytes[position] {
        case UInt8(ascii: "{"): return try nested { (reader: inout JSONReader) throws(JSONSyntaxError) in try reader.readObject() }
        case UInt8(ascii: "["): return try nested { (reader: inout JSONReader) throws(JSONSyntaxError) in try reader.readArray() }
        case UInt8(ascii: "\""): return .string(try readString())
        case UInt8(ascii: "t"): return try readKeyword("true", .bool(true))
        case UInt8(ascii: "f"): return try readKeyword("false", .bool(false))
        case UInt8(ascii: "n"): return try readKeyword("null", .null)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw error("unexpected \(currentCharacter), expected a value")
        }
    }

    private mutating func nested(
        _ read: (inout JSONReader) throws(JSONSyntaxError) -> Value
    ) throws(JSONSyntaxError) -> Value {
        depth += 1
        defer { depth -= 1 }
        guard depth <= maximumDepth else { throw error("nesting deeper than \(maximumDepth) levels") }
        return try read(&self)
    }

    private mutating func readKeyword(_ word: String, _ value: Value) throws(JSONSyntaxError) -> Value {
        let expected = Array(word.utf8)
        guard bytes.count - position >= expected.count,
            bytes[position..<position + expected.count].elementsEqual(expected)
        else { throw error("unexpected \(currentCharacter), expected a value") }
        position += expected.count
        return value
    }

    private mutating func expect(_ byte: UInt8, _ what: String) throws(JSONSyntaxError) {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else {
            throw error("expected \(what), found \(currentCharacter)")
        }
        position += 1
    }

    private mutating func consume(_ byte: UInt8) -> Bool {
        skipWhitespace()
        guard position < bytes.count, bytes[position] == byte else { return false }
        position += 1
        return true
    }

    private mutating func readObject() throws(JSONSyntaxError) -> Value {
        position += 1
        var map = ValueMap()
        if consume(UInt8(ascii: "}")) { return .map(map) }
        repeat {
            skipWhitespace()
            let keyOffset = position
            guard position < bytes.count, bytes[position] == UInt8(ascii: "\"") else {
                throw error("expected a string key in object")
            }
            let key = try readString()
            try expect(UInt8(ascii: ":"), "':' after object key")
            skipWhitespace()
            let value = try readValue()
            guard map.insert(value, forKey: .string(key)) else {
                throw JSONSyntaxError("duplicate key '\(key)' in object", offset: keyOffset)
            }
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "}"), "',' or '}' in object")
        return .map(map)
    }

    private mutating func readArray() throws(JSONSyntaxError) -> Value {
        position += 1
        var elements: [Value] = []
        if consume(UInt8(ascii: "]")) { return .list(elements) }
        repeat {
            skipWhitespace()
            elements.append(try readValue())
        } while consume(UInt8(ascii: ","))
        try expect(UInt8(ascii: "]"), "',' or ']' in array")
        return .list(elements)
    }

    private mutating func readString() throws(JSONSyntaxError) -> String {
        position += 1
        // UTF-8 bytes, decoded once at the end: appending runs to a String.UnicodeScalarView does
        // not grow it geometrically, which made long strings with many escapes quadratic.
        var utf8: [UInt8] = []
        var runStart = position
        while position < bytes.count {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                utf8.append(contentsOf: bytes[runStart..<position])
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            }
            if byte < 0x20 { throw error("unescaped control character in string") }
            if byte == UInt8(ascii: "\\") {
                utf8.append(contentsOf: bytes[runStart..<position])
                utf8.append(contentsOf: try readEscape().utf8)
                runStart = position
                continue
            }
            position += 1
        }
        throw error("unterminated string")
    }

    private mutating func readEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        position += 1
        guard position < bytes.count else { throw error("unterminated escape sequence") }
        let byte = bytes[position]
        position += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"): return try readUnicodeEscape()
        default:
            position -= 1
            throw error("invalid escape '\\\(currentText)' in string")
        }
    }

    private mutating func readUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        // Surrogate errors point at the '\u' escape they are about, not past its hex digits.
        let escapeStart = position - 2
        let high = try readHexQuad()
        if (0xD800..<0xDC00).contains(high) {
            guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u")
            else { throw JSONSyntaxError("unpaired surrogate \\u\(String(high, radix: 16)) in string", offset: escapeStart) }
            let lowStart = position
            position += 2
            let low = try readHexQuad()
            guard (0xDC00..<0xE000).contains(low) else { throw JSONSyntaxError("invalid low surrogate in string", offset: lowStart) }
            let combined = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
            guard let scalar = Unicode.Scalar(combined) else { throw error("invalid surrogate pair in string") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(high) else {
            throw JSONSyntaxError("unpaired surrogate \\u\(String(high, radix: 16)) in string", offset: escapeStart)
        }
        return scalar
    }

    private mutating func readHexQuad() throws(JSONSyntaxError) -> UInt32 {
        // Only hex digits: UInt32(_:radix:) alone would also accept a sign, as in "\u+041".
        guard bytes.count - position >= 4,
            bytes[position..<position + 4].allSatisfy({ Unicode.Scalar($0).properties.isASCIIHexDigit }),
            let value = UInt32(String(decoding: bytes[position..<position + 4], as: UTF8.self), radix: 16)
        else { throw error("expected four hex digits after \\u") }
        position += 4
        return value
    }

    private mutating func readNumber() throws(JSONSyntaxError) -> Value {
        let start = position
        var isInteger = true
        if bytes[position] == UInt8(ascii: "-") { position += 1 }
        let integerStart = position
        let integerDigits = readDigits()
        guard integerDigits > 0 else { throw error("expected a digit in number") }
        if integerDigits > 1, bytes[integerStart] == UInt8(ascii: "0") {
            throw JSONSyntaxError("leading zero in number", offset: integerStart)
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard readDigits() > 0 else { throw error("expected a digit after '.' in number") }
        }
        if position < bytes.count, bytes[position] == UInt8(ascii: "e") || bytes[position] == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if position < bytes.count, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            guard readDigits() > 0 else { throw error("expected a digit in exponent") }
        }
        let text = String(decoding: bytes[start..<position], as: UTF8.self)
        if isInteger {
            if let int = Int64(text) { return .int(int) }
            if let uint = UInt64(text) { return .uint(uint) }
        }
        guard let double = Double(text) else { throw JSONSyntaxError("invalid number '\(text)'", offset: start) }
        // 1e400 would become infinity, which JSON cannot hold: written back it would be the string "Infinity".
        guard double.isFinite else { throw JSONSyntaxError("number \(text) is out of range for a double", offset: start) }
        return .double(double)
    }

    private mutating func readDigits() -> Int {
        let start = position
        while position < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[position]) { position += 1 }
        return position - start
    }
}
