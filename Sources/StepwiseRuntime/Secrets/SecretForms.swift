import Foundation

/// The bytes in which a secret reappears when an endpoint echoes it: as is, without surrounding
/// white space, in Unicode's composed and decomposed normalizations, JSON-escaped the ways common
/// encoders write strings (PHP's `\/`, Go's `\u003c` for `<`, `>` and `&`, Python's `\u00e9` for
/// every character past ASCII, in either case of hex digit), percent-encoded (a query string or
/// a form, `%2F` or `%2f`, a space as `%20` or `+`), and in UTF-16, Latin-1 and Windows-1252 bodies.
enum SecretForms {
    /// The forms of a secret, as bytes: two spellings Swift's `String` holds equal (composed and
    /// decomposed) are different bytes in a body.
    struct Forms {
        /// The forms a UTF-8 text may hold: the secret's spellings in UTF-8 and UTF-16 with its
        /// zero bytes (which no other character of UTF-8 text has).
        var text: Set<[UInt8]> = []
        /// The others (Latin-1, UTF-16 without a zero byte): in UTF-8 text, their bytes could be
        /// parts of other characters, so they are looked for only in bytes that are not UTF-8.
        var foreign: Set<[UInt8]> = []
    }

    /// Every form of `secret`, without the empty one.
    static func of(_ secret: String) -> Forms {
        var forms = Forms()
        forms.text = utf8(secret)
        for form in spellings(secret).reduce(into: Set<[UInt8]>(), { $0.formUnion(bytes(of: $1)) }) where !forms.text.contains(form) {
            let isText = form.contains(0) && String(validating: form, as: UTF8.self) != nil
            if isText { forms.text.insert(form) } else { forms.foreign.insert(form) }
        }
        return forms
    }

    /// `secret` as is and trimmed, each composed and decomposed.
    private static func spellings(_ secret: String) -> [String] {
        let trimmed = secret.trimmingCharacters(in: .whitespacesAndNewlines)
        return [secret, trimmed].flatMap { [$0, $0.precomposedStringWithCanonicalMapping, $0.decomposedStringWithCanonicalMapping] }
    }

    /// The UTF-8 forms of `secret`: its spellings as they are, JSON-escaped and percent-encoded.
    private static func utf8(_ secret: String) -> Set<[UInt8]> {
        var forms = Set<[UInt8]>()
        for text in spellings(secret) where !text.isEmpty {
            var texts = [text]
            texts += JSONEscapeStyle.all.map { jsonEscaped(text, $0) }
            for kept in keptByEncoders {
                for upper in [true, false] {
                    texts.append(percentEncoded(text, keeping: kept, upperHex: upper, spaceAsPlus: false))
                    texts.append(percentEncoded(text, keeping: kept, upperHex: upper, spaceAsPlus: true))
                }
            }
            forms.formUnion(texts.map { Array($0.utf8) })
        }
        return forms
    }

    /// The forms of `secret` in other encodings of a body: UTF-16 (either byte order), and
    /// Latin-1 and Windows-1252 (the two 8-bit charsets a text body is decoded in) when it has
    /// characters past ASCII that they hold. Without the empty one.
    private static func bytes(of secret: String) -> Set<[UInt8]> {
        guard !secret.isEmpty else { return [] }
        let units = Array(secret.utf16)
        var forms: Set<[UInt8]> = [
            units.flatMap { [UInt8(truncatingIfNeeded: $0), UInt8(truncatingIfNeeded: $0 >> 8)] },
            units.flatMap { [UInt8(truncatingIfNeeded: $0 >> 8), UInt8(truncatingIfNeeded: $0)] },
        ]
        let scalars = secret.unicodeScalars
        if scalars.contains(where: { $0.value > 0x7F }), scalars.allSatisfy({ $0.value <= 0xFF }) {
            forms.insert(scalars.map { UInt8(truncatingIfNeeded: $0.value) })
        }
        if let windows = secret.data(using: .windowsCP1252), windows.contains(where: { $0 > 0x7F }) {
            forms.insert(Array(windows))
        }
        return forms
    }

    /// Which optional escapes a JSON encoder applies, beyond the quote, the backslash and control characters.
    struct JSONEscapeStyle {
        var slash: Bool
        var html: Bool
        var asciiOnly: Bool
        var upperHex: Bool

        static let all: [JSONEscapeStyle] = [false, true].flatMap { slash in
            [false, true].flatMap { html in
                [false, true].flatMap { asciiOnly in
                    [false, true].map { upperHex in JSONEscapeStyle(slash: slash, html: html, asciiOnly: asciiOnly, upperHex: upperHex) }
                }
            }
        }
    }

    /// `text` as it appears between the quotes of a JSON string written in `style`.
    static func jsonEscaped(_ text: String, _ style: JSONEscapeStyle) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case "/" where style.slash: result += "\\/"
            default:
                let html = style.html && (scalar == "<" || scalar == ">" || scalar == "&")
                if html || scalar.value < 0x20 || (style.asciiOnly && scalar.value > 0x7E) {
                    for unit in String(scalar).utf16 { result += unicodeEscape(unit, upperHex: style.upperHex) }
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// What common percent-encoders leave as it is besides letters and digits: RFC 3986's
    /// unreserved characters (PHP's `rawurlencode`, Python's `quote_plus`), and `/` (Python's
    /// `quote`), without `~` (PHP's `urlencode`), with `*` instead (Java's `URLEncoder`, HTML
    /// forms), with `!'()*` (JavaScript's `encodeURIComponent`).
    static let keptByEncoders: [Set<UInt8>] = ["-._~", "-._~/", "-._", "-._*", "-._~!'()*"].map { Set($0.utf8) }

    /// `text` percent-encoded byte by byte, everything but letters, digits and `kept`.
    static func percentEncoded(_ text: String, keeping kept: Set<UInt8>, upperHex: Bool, spaceAsPlus: Bool) -> String {
        var result = ""
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case _ where kept.contains(byte):
                result.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " ") where spaceAsPlus:
                result += "+"
            default:
                result += "%" + hex(UInt16(byte), digits: 2, upper: upperHex)
            }
        }
        return result
    }

    private static func unicodeEscape(_ unit: UInt16, upperHex: Bool) -> String {
        "\\u" + hex(unit, digits: 4, upper: upperHex)
    }

    private static func hex(_ value: UInt16, digits: Int, upper: Bool) -> String {
        let text = String(value, radix: 16, uppercase: upper)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }
}
