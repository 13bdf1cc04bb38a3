/// Backslash escapes: assertions, class escapes, `\Q…\E`, and escaped scalars.
extension RegexParser {
    /// An escape outside brackets; `position` is at the backslash.
    mutating func parseEscape() throws(RegexSyntaxError) {
        let start = position
        guard let letter = peek(1) else {
            throw RegexSyntaxError(message: "trailing backslash at end of pattern", offset: start)
        }
        if let assertion = Self.assertion(for: letter) {
            position += 2
            append(.assertion(assertion))
            return
        }
        switch letter {
        case "Q":
            position += 2
            parseQuotedText()
        case "d", "D", "s", "S", "w", "W", "p", "P":
            var characterClass = RegexCharacterClass(isCaseInsensitive: flags.isCaseInsensitive)
            try parseClassEscape(into: &characterClass)
            characterClass.finish()
            append(.characterClass(characterClass))
        case "C":
            throw RegexSyntaxError(message: "'\\C' (any byte) is not supported", offset: start)
        case "Z":
            throw RegexSyntaxError(message: "'\\Z' is not supported; use '\\z' for the end of the text", offset: start)
        default:
            appendLiteral(try parseEscapedScalar())
        }
    }

    private static func assertion(for letter: Unicode.Scalar) -> RegexAssertion? {
        switch letter {
        case "A": .beginningOfText
        case "z": .endOfText
        case "b": .wordBoundary
        case "B": .notWordBoundary
        default: nil
        }
    }

    /// `\Q…\E`: everything up to `\E` (or the end of the pattern) is literal.
    private mutating func parseQuotedText() {
        while let scalar = peek() {
            if scalar == "\\", peek(1) == "E" {
                position += 2
                break
            }
            position += 1
            appendLiteral(scalar)
        }
        previousRepetitionOffset = nil
    }

    /// Reads `\d`, `\D`, `\s`, `\S`, `\w`, `\W`, `\pX`, `\p{Name}`, `\PX` or `\P{^Name}` at
    /// `position` into `characterClass`; returns false, consuming nothing, for any other text.
    @discardableResult
    mutating func parseClassEscape(into characterClass: inout RegexCharacterClass) throws(RegexSyntaxError) -> Bool {
        guard peek() == "\\", let letter = peek(1) else { return false }
        if let named = RegexNamedClass.perl(letter) {
            position += 2
            let isComplement = letter.properties.isUppercase
            characterClass.add(ranges: named.ranges, categories: named.categories, negated: isComplement)
            return true
        }
        guard letter == "p" || letter == "P" else { return false }
        let (named, isComplement) = try parseUnicodeClass()
        characterClass.add(ranges: named.ranges, categories: named.categories, negated: isComplement)
        return true
    }

    /// `\pX`, `\p{Name}` or `\p{^Name}`, and the `\P` complements; `position` is at the backslash.
    private mutating func parseUnicodeClass() throws(RegexSyntaxError) -> (RegexNamedClass, Bool) {
        let start = position
        var isComplement = peek(1) == "P"
        position += 2
        guard let first = peek() else {
            throw RegexSyntaxError(message: "missing Unicode class name after '\(text(start..<position))'", offset: start)
        }
        var name: String
        if first == "{" {
            guard let closing = Self.firstOffset(in: closingBraceOffsets, atLeast: position) else {
                throw RegexSyntaxError(message: "missing closing '}' for Unicode class", offset: start)
            }
            name = text(position + 1..<closing)
            position = closing + 1
        } else {
            name = String(first)
            position += 1
        }
        if name.hasPrefix("^") {
            isComplement.toggle()
            name.removeFirst()
        }
        guard let named = RegexNamedClass.unicode(name) else {
            throw RegexSyntaxError(
                message: "unknown or unsupported Unicode class '\(text(start..<position))'; supported are Any, "
                    + "general categories such as L, Lu or Nd, and the scripts "
                    + RegexUnicodeScript.supportedNames.joined(separator: ", "),
                offset: start)
        }
        return (named, isComplement)
    }

    /// The scalar denoted by an escape such as `\n`, `\x41`, `\x{1F600}`, `\123` or `\.`;
    /// `position` is at the backslash.
    mutating func parseEscapedScalar() throws(RegexSyntaxError) -> Unicode.Scalar {
        let start = position
        guard let letter = peek(1) else {
            throw RegexSyntaxError(message: "trailing backslash at end of pattern", offset: start)
        }
        position += 2
        if let control = Self.controlEscapes[letter] {
            return control
        }
        switch letter {
        case "0"..."7":
            return try parseOctal(firstDigit: letter, escapeOffset: start)
        case "x":
            return try parseHexadecimal(escapeOffset: start)
        default:
            // RE2 lets any ASCII punctuation be escaped, but no letters or digits it does not know.
            guard letter.isASCII, !Self.isWordScalar(letter) || letter == "_" else {
                throw RegexSyntaxError(message: "invalid escape sequence '\\\(letter)'", offset: start)
            }
            return letter
        }
    }

    private static let controlEscapes: [Unicode.Scalar: Unicode.Scalar] = [
        "a": "\u{07}", "f": "\u{0C}", "t": "\t", "n": "\n", "r": "\r", "v": "\u{0B}",
    ]

    /// `\0`, `\12`, `\123`: up to three octal digits. A lone `\1`–`\7` is a backreference in
    /// other dialects, so RE2 refuses it rather than guess.
    private mutating func parseOctal(firstDigit: Unicode.Scalar, escapeOffset: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        var value = firstDigit.value - 0x30
        var digits = 1
        while digits < 3, let scalar = peek(), ("0"..."7").contains(scalar) {
            value = value * 8 + scalar.value - 0x30
            digits += 1
            position += 1
        }
        guard firstDigit == "0" || digits > 1 else {
            throw RegexSyntaxError(
                message: "backreferences such as '\(text(escapeOffset..<position))' are not supported", offset: escapeOffset)
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw RegexSyntaxError(message: "invalid octal escape", offset: escapeOffset)
        }
        return scalar
    }

    /// `\xHH` (exactly two digits) or `\x{H…}` (any number, up to U+10FFFF).
    private mutating func parseHexadecimal(escapeOffset: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        let isBraced = peek() == "{"
        if isBraced {
            position += 1
        }
        var value: UInt32 = 0
        var digits = 0
        while let scalar = peek(), let digit = Self.hexadecimalValue(scalar), isBraced || digits < 2 {
            value = value > 0x10FFFF ? value : value * 16 + digit
            digits += 1
            position += 1
        }
        let isTerminated = !isBraced || peek() == "}"
        guard digits > 0, isTerminated, isBraced || digits == 2 else {
            throw RegexSyntaxError(
                message: "invalid hexadecimal escape: expected '\\x' followed by two hex digits or by hex digits in braces",
                offset: escapeOffset)
        }
        if isBraced {
            position += 1
        }
        guard let scalar = Unicode.Scalar(value) else {
            throw RegexSyntaxError(
                message: "hexadecimal escape '\(text(escapeOffset..<position))' is not a Unicode scalar value",
                offset: escapeOffset)
        }
        return scalar
    }

    private static func hexadecimalValue(_ scalar: Unicode.Scalar) -> UInt32? {
        switch scalar {
        case "0"..."9": scalar.value - 0x30
        case "a"..."f": scalar.value - 0x61 + 10
        case "A"..."F": scalar.value - 0x41 + 10
        default: nil
        }
    }

    /// The first entry of the ascending `offsets` that is at least `minimum`.
    static func firstOffset(in offsets: [Int], atLeast minimum: Int) -> Int? {
        var low = 0
        var high = offsets.count
        while low < high {
            let middle = (low + high) / 2
            if offsets[middle] < minimum {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low < offsets.count ? offsets[low] : nil
    }
}
