/// The JSON string literals of a text that hold escapes, decoded leniently: in a document a
/// strict parser refuses too (NDJSON, server-sent events, duplicate keys, a byte-order mark, a
/// JSON document inside a string), since a reader may still decode them, and `\u0041` spells
/// `A` where no byte of the text does.
enum EscapedStringLiterals {
    /// A literal: the bytes it spans, quotes included, and its content with escapes decoded.
    struct Literal {
        var span: Range<Int>
        var decoded: [UInt8]
    }

    /// Every literal of `bytes` with at least one escape, in order. A quote left open ends the scan.
    static func find(in bytes: UnsafeBufferPointer<UInt8>) -> [Literal] {
        var literals: [Literal] = []
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\"") else {
                index += 1
                continue
            }
            var end = index + 1
            var escaped = false
            while end < bytes.count, bytes[end] != UInt8(ascii: "\"") {
                if bytes[end] == UInt8(ascii: "\\") { escaped = true; end += 1 }
                end += 1
            }
            guard end < bytes.count else { break }
            if escaped { literals.append(Literal(span: index..<(end + 1), decoded: decode(bytes[(index + 1)..<end]))) }
            index = end + 1
        }
        return literals
    }

    /// `content` with JSON's escapes decoded (`\uXXXX` with surrogate pairs; a lone surrogate as
    /// U+FFFD; an unknown escape as its character), other bytes as they are.
    private static func decode(_ content: Slice<UnsafeBufferPointer<UInt8>>) -> [UInt8] {
        var output: [UInt8] = []
        var index = content.startIndex
        while index < content.endIndex {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < content.endIndex else {
                output.append(byte)
                index += 1
                continue
            }
            let escape = content[index + 1]
            index += 2
            switch escape {
            case UInt8(ascii: "n"): output.append(0x0A)
            case UInt8(ascii: "r"): output.append(0x0D)
            case UInt8(ascii: "t"): output.append(0x09)
            case UInt8(ascii: "b"): output.append(0x08)
            case UInt8(ascii: "f"): output.append(0x0C)
            case UInt8(ascii: "u"):
                guard let unit = hexUnit(content, at: index) else { continue }
                index += 4
                var scalar = Unicode.Scalar(unit)
                if (0xD800...0xDBFF).contains(unit), index + 1 < content.endIndex, content[index] == UInt8(ascii: "\\"),
                    content[index + 1] == UInt8(ascii: "u"), let low = hexUnit(content, at: index + 2), (0xDC00...0xDFFF).contains(low)
                {
                    scalar = Unicode.Scalar(0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00))
                    index += 6
                }
                output.append(contentsOf: String(Character(scalar ?? "\u{FFFD}")).utf8)
            default: output.append(escape)
            }
        }
        return output
    }

    private static func hexUnit(_ content: Slice<UnsafeBufferPointer<UInt8>>, at index: Int) -> UInt16? {
        guard index + 4 <= content.endIndex else { return nil }
        var value: UInt16 = 0
        for offset in 0..<4 {
            guard let digit = hexDigit(content[index + offset]) else { return nil }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private static func hexDigit(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
