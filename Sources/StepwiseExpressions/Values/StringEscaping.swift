/// Writes text in double quotes for the three quoted forms Stepwise produces: JSON strings, CEL
/// string literals (the expression printer) and CEL's `strings.quote`.
enum StringEscaping {
    enum Style {
        /// RFC 8259: other control characters as `\u00XX`.
        case json
        /// A CEL literal that parses back to the same text: other control characters as `\xHH`.
        case celLiteral
        /// CEL's `strings.quote`: named escapes for `\a \b \f \v`, everything else verbatim.
        case celQuote
    }

    static func quoted(_ text: String, style: Style) -> String {
        var result = ""
        appendQuoted(text, style: style, to: &result)
        return result
    }

    /// Appends `text` quoted to `output`, copying the runs between escapes whole (journal
    /// entries are written as JSON at every step, and most text escapes nothing).
    static func appendQuoted(_ text: String, style: Style, to output: inout String) {
        output += "\""
        let bytes = text.utf8
        var runStart = bytes.startIndex
        var index = runStart
        while index != bytes.endIndex {
            let byte = bytes[index]
            // Only ASCII bytes are escaped, so `index` is on a scalar's boundary (slices round to
            // scalars, not characters: an escaped quote may begin one, with a combining mark).
            if needsEscape(byte, style: style), let escape = escape(for: Unicode.Scalar(byte), style: style) {
                output += text[runStart..<index]
                output += escape
                runStart = bytes.index(after: index)
            }
            index = bytes.index(after: index)
        }
        output += text[runStart...]
        output += "\""
    }

    /// How many UTF-8 bytes `appendQuoted` writes for `text`, quotes included, without writing them.
    static func quotedByteCount(_ text: String, style: Style) -> Int {
        var count = 2
        for byte in text.utf8 {
            guard needsEscape(byte, style: style), let escape = escape(for: Unicode.Scalar(byte), style: style) else {
                count += 1
                continue
            }
            count += escape.utf8.count
        }
        return count
    }

    /// Whether a UTF-8 byte may need an escape in `style`: quotes, backslashes, ASCII control
    /// characters (and DEL for CEL literals). Bytes of multi-byte scalars are never escaped.
    private static func needsEscape(_ byte: UInt8, style: Style) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") || (style == .celLiteral && byte == 0x7F)
    }

    private static func escape(for scalar: Unicode.Scalar, style: Style) -> String? {
        switch scalar {
        case "\"": return "\\\""
        case "\\": return "\\\\"
        case "\n": return "\\n"
        case "\r": return "\\r"
        case "\t": return "\\t"
        case "\u{08}" where style != .celLiteral: return "\\b"
        case "\u{0C}" where style != .celLiteral: return "\\f"
        case "\u{07}" where style == .celQuote: return "\\a"
        case "\u{0B}" where style == .celQuote: return "\\v"
        default: break
        }
        let isControl = scalar.value < 0x20 || (style == .celLiteral && scalar.value == 0x7F)
        guard isControl else { return nil }
        let hex = String(scalar.value, radix: 16, uppercase: style == .celLiteral)
        let padded = String(repeating: "0", count: max(0, 2 - hex.count)) + hex
        switch style {
        case .json: return "\\u00" + padded
        case .celLiteral: return "\\x" + padded
        case .celQuote: return nil
        }
    }
}
