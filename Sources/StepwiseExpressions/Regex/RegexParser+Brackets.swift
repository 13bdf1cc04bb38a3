/// Bracket expressions: `[abc]`, `[^a-z]`, `[\d\p{Greek}]`, `[[:alpha:]]`.
extension RegexParser {
    /// `position` is at the `[`.
    mutating func parseBracketExpression() throws(RegexSyntaxError) {
        let opening = position
        position += 1
        var characterClass = RegexCharacterClass(isCaseInsensitive: flags.isCaseInsensitive)
        if peek() == "^" {
            characterClass.isNegated = true
            position += 1
        }
        // A `]` right after `[` or `[^` is a literal, so the class `[]a]` holds `]` and `a`.
        var isFirst = true
        while true {
            guard let scalar = peek() else {
                throw Self.missingBracket(openedAt: opening)
            }
            if scalar == "]", !isFirst {
                position += 1
                break
            }
            isFirst = false
            try parseBracketItem(into: &characterClass, openedAt: opening)
        }
        characterClass.finish()
        append(.characterClass(characterClass))
    }

    private static func missingBracket(openedAt opening: Int) -> RegexSyntaxError {
        RegexSyntaxError(message: "missing closing ']' for character class opened at offset \(opening)", offset: opening)
    }

    private mutating func parseBracketItem(
        into characterClass: inout RegexCharacterClass, openedAt opening: Int
    ) throws(RegexSyntaxError) {
        if try parsePosixClass(into: &characterClass) {
            return
        }
        if try parseClassEscape(into: &characterClass) {
            return
        }
        let rangeStart = position
        let low = try parseBracketScalar(openedAt: opening)
        var high = low
        // A `-` before the closing `]` is literal, as in `[a-]`.
        if peek() == "-", let next = peek(1), next != "]" {
            position += 1
            high = try parseBracketScalar(openedAt: opening)
            guard low.value <= high.value else {
                throw RegexSyntaxError(
                    message: "invalid character class range '\(text(rangeStart..<position))': the start sorts after the end",
                    offset: rangeStart)
            }
        }
        characterClass.add(low.value, through: high.value)
    }

    private mutating func parseBracketScalar(openedAt opening: Int) throws(RegexSyntaxError) -> Unicode.Scalar {
        guard let scalar = peek() else {
            throw Self.missingBracket(openedAt: opening)
        }
        if scalar == "\\" {
            return try parseEscapedScalar()
        }
        position += 1
        return scalar
    }

    /// `[:name:]` or `[:^name:]`; returns false, consuming nothing, when there is no `[:` here or
    /// no `:]` anywhere after it (then `[` is an ordinary member, as in RE2).
    private mutating func parsePosixClass(into characterClass: inout RegexCharacterClass) throws(RegexSyntaxError) -> Bool {
        guard peek() == "[", peek(1) == ":",
            let terminator = Self.firstOffset(in: posixTerminatorOffsets, atLeast: position + 2)
        else { return false }
        var name = text(position + 2..<terminator)
        let isComplement = name.hasPrefix("^")
        if isComplement {
            name.removeFirst()
        }
        guard let named = RegexNamedClass.posix(name) else {
            throw RegexSyntaxError(
                message: "unknown POSIX class '\(text(position..<terminator + 2))'", offset: position)
        }
        position = terminator + 2
        characterClass.add(ranges: named.ranges, categories: named.categories, negated: isComplement)
        return true
    }
}
