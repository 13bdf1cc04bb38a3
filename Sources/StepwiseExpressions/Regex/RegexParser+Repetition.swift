/// Quantifiers: `*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}` and their lazy `?` forms.
extension RegexParser {
    mutating func parseQuantifier() throws(RegexSyntaxError) {
        let start = position
        let bounds: (minimum: Int, maximum: Int?) =
            switch pattern[position] {
            case "*": (0, nil)
            case "+": (1, nil)
            default: (0, 1)
            }
        position += 1
        try applyRepetition(minimum: bounds.minimum, maximum: bounds.maximum, operatorOffset: start)
    }

    /// A `{` that does not start a well-formed count is an ordinary literal, as in RE2.
    mutating func parseBraceOrLiteral() throws(RegexSyntaxError) {
        let start = position
        guard let bounds = parseCountedBounds() else {
            position = start + 1
            appendLiteral("{")
            return
        }
        for count in [bounds.minimum, bounds.maximum].compactMap({ $0 }) where count > Self.maximumRepetitionCount {
            let shown = count == Int.max ? "above \(Self.maximumRepetitionCount)" : "\(count)"
            throw RegexSyntaxError(
                message: "repetition count \(shown) exceeds the maximum of \(Self.maximumRepetitionCount)", offset: start)
        }
        if let maximum = bounds.maximum, maximum < bounds.minimum {
            throw RegexSyntaxError(
                message: "invalid repetition '\(text(start..<position))': the minimum exceeds the maximum", offset: start)
        }
        try applyRepetition(minimum: bounds.minimum, maximum: bounds.maximum, operatorOffset: start)
    }

    /// Reads `{n}`, `{n,}` or `{n,m}` from the current `{`, leaving `position` after `}`; nil when
    /// the text is not a count.
    private mutating func parseCountedBounds() -> (minimum: Int, maximum: Int?)? {
        position += 1
        guard let minimum = parseDecimal() else { return nil }
        var maximum: Int? = minimum
        if peek() == "," {
            position += 1
            maximum = peek() == "}" ? nil : parseDecimal()
            guard maximum != nil || peek() == "}" else { return nil }
        }
        guard peek() == "}" else { return nil }
        position += 1
        return (minimum, maximum)
    }

    /// Decimal digits without leading zeros (RE2 treats `{01}` as literal text); saturates at
    /// `Int.max` so absurd counts still report as too large instead of overflowing.
    private mutating func parseDecimal() -> Int? {
        let start = position
        var value = 0
        while let scalar = peek(), let digit = Self.decimalValue(scalar) {
            value = value > 100_000_000 ? Int.max : value * 10 + digit
            position += 1
        }
        let length = position - start
        guard length > 0, !(length > 1 && pattern[start] == "0") else { return nil }
        return value
    }

    private static func decimalValue(_ scalar: Unicode.Scalar) -> Int? {
        ("0"..."9").contains(scalar) ? Int(scalar.value - 0x30) : nil
    }

    /// Wraps the last atom in a repetition after the checks RE2 makes: something to repeat, no
    /// stacked operators (`a**`, possessive `a*+`), and no runaway nested counts.
    private mutating func applyRepetition(minimum: Int, maximum: Int?, operatorOffset: Int) throws(RegexSyntaxError) {
        let isLazy = peek() == "?"
        if isLazy {
            position += 1
        }
        if let previous = previousRepetitionOffset {
            let stacked = text(previous..<position)
            let message =
                pattern[operatorOffset] == "+"
                ? "possessive quantifier '\(stacked)' is not supported"
                : "invalid nested repetition operator '\(stacked)'"
            throw RegexSyntaxError(message: message, offset: previous)
        }
        let last = frames.count - 1
        guard let operand = frames[last].sequence.popLast() else {
            throw RegexSyntaxError(
                message: "missing argument to repetition operator '\(text(operatorOffset..<position))'",
                offset: operatorOffset)
        }
        let repetition = RegexNode.Repetition(
            minimum: minimum, maximum: maximum, isGreedy: isLazy == flags.isUngreedy)
        let node = tree.add(.repetition(operand, repetition))
        if minimum >= 2 || (maximum ?? 0) >= 2,
            !tree.repetitionProductFits(from: node, within: Self.maximumRepetitionCount)
        {
            throw RegexSyntaxError(
                message: "nested repetition counts multiply beyond the maximum of \(Self.maximumRepetitionCount)",
                offset: operatorOffset)
        }
        appendIndex(node)
        previousRepetitionOffset = operatorOffset
    }
}
