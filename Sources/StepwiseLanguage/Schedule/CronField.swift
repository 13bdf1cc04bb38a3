/// One of the five fields of a cron expression, parsed into the set of values it selects.
///
/// The set is a bit mask (bit `v` set when value `v` is selected), so matching and finding the next
/// selected value are constant-time operations while `CronExpression` walks the calendar.
struct CronField: Sendable, Hashable {
    /// Which field this is; determines its range, its names and how it is described in errors.
    enum Kind: Sendable, Hashable, CaseIterable {
        case minute, hour, dayOfMonth, month, dayOfWeek

        /// The field's name as used in error messages and in the field-count message.
        var name: String {
            switch self {
            case .minute: "minute"
            case .hour: "hour"
            case .dayOfMonth: "day-of-month"
            case .month: "month"
            case .dayOfWeek: "day-of-week"
            }
        }

        /// The values a number may take; day-of-week allows 7 as a second spelling of Sunday.
        var bounds: ClosedRange<Int> {
            switch self {
            case .minute: 0...59
            case .hour: 0...23
            case .dayOfMonth: 1...31
            case .month: 1...12
            case .dayOfWeek: 0...7
            }
        }

        /// The names the field accepts, in value order starting at `bounds.lowerBound` for months
        /// and at 0 (Sunday) for days of the week; empty for purely numeric fields.
        var names: [String] {
            switch self {
            case .month: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
            case .dayOfWeek: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
            case .minute, .hour, .dayOfMonth: []
            }
        }

        /// The value the first name stands for.
        fileprivate var firstNameValue: Int {
            self == .month ? 1 : 0
        }

        /// The last value that `*` and an open-ended `N/step` run up to. For day-of-week this is
        /// Saturday (6), not 7: 7 only repeats Sunday, so `1/2` means Monday, Wednesday and Friday
        /// (as in croniter) rather than picking up Sunday as well.
        fileprivate func openUpperBound(from start: Int) -> Int {
            self == .dayOfWeek ? max(start, 6) : bounds.upperBound
        }
    }

    /// The field this is.
    let kind: Kind
    /// Bit `v` is set when value `v` is selected; day-of-week 7 is stored as 0 (Sunday).
    let bits: UInt64
    /// Whether the field's text starts with `*`. Vixie cron decides between OR and AND matching of
    /// the two day fields on exactly this (its DOM_STAR/DOW_STAR flags), so `*/2` counts as
    /// unrestricted there even though it selects only some days; we follow it for compatibility.
    let startsWithStar: Bool

    /// Whether `value` is selected.
    func contains(_ value: Int) -> Bool {
        (0..<64).contains(value) && bits & (1 << UInt64(value)) != 0
    }

    /// The smallest selected value that is at least `value`, or nil if there is none.
    func first(atLeast value: Int) -> Int? {
        guard value < 64 else { return nil }
        // Clear the bits below `value`; what is left starts with the answer.
        let remaining = bits & ~((1 << UInt64(max(value, 0))) - 1)
        return remaining == 0 ? nil : remaining.trailingZeroBitCount
    }

    /// The selected values in increasing order.
    var values: [Int] {
        (0..<64).filter(contains)
    }
}

// MARK: - Parsing

extension CronField {
    /// Parses the text of one field, whose first character is at `offset` in the whole cron text;
    /// errors carry offsets into the whole text.
    init(parsing text: ArraySlice<Character>, kind: Kind, offset: Int) throws(CronSyntaxError) {
        self.kind = kind
        self.startsWithStar = text.first == "*"
        var bits: UInt64 = 0
        var itemStart = text.startIndex
        // Walk comma-separated items; `text` keeps the indices of the whole expression's
        // character array, so `index - text.startIndex + offset` is the offset in the cron text.
        while true {
            let itemEnd = text[itemStart...].firstIndex(of: ",") ?? text.endIndex
            let item = text[itemStart..<itemEnd]
            let itemOffset = offset + (itemStart - text.startIndex)
            guard !item.isEmpty else {
                throw CronSyntaxError("empty item in \(kind.name) list", offset: itemOffset)
            }
            bits |= try Self.parseItem(item, kind: kind, offset: itemOffset)
            guard itemEnd < text.endIndex else { break }
            itemStart = itemEnd + 1
        }
        self.bits = bits
    }

    /// Parses one list item (`*`, `N`, `N-M`, each optionally followed by `/step`) into its bits.
    private static func parseItem(
        _ item: ArraySlice<Character>,
        kind: Kind,
        offset: Int
    ) throws(CronSyntaxError) -> UInt64 {
        var scanner = Scanner(characters: item, offset: offset, kind: kind)
        let start: Int
        var end: Int
        var isRange = false
        if scanner.peek == "*" {
            scanner.advance()
            start = kind == .dayOfWeek ? 0 : kind.bounds.lowerBound
            end = kind.openUpperBound(from: start)
            isRange = true
        } else {
            start = try scanner.value()
            end = start
            if scanner.peek == "-" {
                scanner.advance()
                guard scanner.peek != nil else {
                    throw CronSyntaxError("\(kind.name) range is missing its end", offset: scanner.offset)
                }
                end = try scanner.value()
                isRange = true
                let rangeText = String(item[item.startIndex..<scanner.index])
                // `sat-sun` and `5-0` can only mean Saturday through Sunday: read the Sunday
                // at the end as 7 instead of calling the range reversed.
                if kind == .dayOfWeek, end == 0, start > 0 {
                    end = 7
                }
                guard start <= end else {
                    throw CronSyntaxError(
                        "\(kind.name) range \(rangeText) is reversed (its start is after its end)",
                        offset: offset
                    )
                }
            }
        }
        var step = 1
        if scanner.peek == "/" {
            scanner.advance()
            step = try scanner.step()
            // `5/15` means 5 through the end of the field, every 15 (as in cronie and croniter).
            if !isRange {
                end = kind.openUpperBound(from: start)
            }
        }
        if let unexpected = scanner.peek {
            throw CronSyntaxError("unexpected character '\(unexpected)' in \(kind.name) field", offset: scanner.offset)
        }
        var bits: UInt64 = 0
        for value in stride(from: start, through: end, by: step) {
            // Sunday may be written 7; store it as 0 so matching needs only one spelling.
            let stored = kind == .dayOfWeek && value == 7 ? 0 : value
            bits |= 1 << UInt64(stored)
        }
        return bits
    }

    /// A cursor over one list item that reads numbers, names and steps and reports errors at the
    /// right offset.
    private struct Scanner {
        let characters: ArraySlice<Character>
        let startOffset: Int
        let kind: Kind
        var index: Int

        init(characters: ArraySlice<Character>, offset: Int, kind: Kind) {
            self.characters = characters
            self.startOffset = offset
            self.kind = kind
            self.index = characters.startIndex
        }

        /// The offset of the current character in the whole cron text.
        var offset: Int { startOffset + (index - characters.startIndex) }

        /// The current character, or nil at the end of the item.
        var peek: Character? { index < characters.endIndex ? characters[index] : nil }

        mutating func advance() { index += 1 }

        /// Reads a maximal run of characters satisfying `predicate`.
        private mutating func run(while predicate: (Character) -> Bool) -> String {
            var text = ""
            while let character = peek, predicate(character) {
                text.append(character)
                advance()
            }
            return text
        }

        /// Reads a number or (for months and days of the week) a name, checked against the
        /// field's range.
        mutating func value() throws(CronSyntaxError) -> Int {
            let valueOffset = offset
            guard let first = peek else {
                throw CronSyntaxError("missing \(kind.name) value", offset: valueOffset)
            }
            if first.isASCIIDigit {
                let digits = run(while: \.isASCIIDigit)
                // Anything longer than 9 digits is out of range anyway; not converting it
                // avoids overflow on absurd input.
                guard digits.count <= 9, let number = Int(digits), kind.bounds.contains(number) else {
                    throw CronSyntaxError(
                        "\(kind.name) value \(digits) is out of range \(kind.bounds.lowerBound)-\(kind.bounds.upperBound)",
                        offset: valueOffset
                    )
                }
                return number
            }
            if first.isASCIILetter {
                let word = run(while: \.isASCIILetter)
                guard !kind.names.isEmpty else {
                    throw CronSyntaxError("\(kind.name) value '\(word)' is not a number", offset: valueOffset)
                }
                guard let position = kind.names.firstIndex(of: word.lowercased()) else {
                    throw CronSyntaxError("unknown \(kind.name) name '\(word)'", offset: valueOffset)
                }
                return kind.firstNameValue + position
            }
            throw CronSyntaxError("unexpected character '\(first)' in \(kind.name) field", offset: valueOffset)
        }

        /// Reads the number after `/`, which must be at least 1 and at most the field's largest
        /// value: a larger step could only ever select the first value, which is never what
        /// `*/90` (meant as "every 90 minutes") intends.
        mutating func step() throws(CronSyntaxError) -> Int {
            let stepOffset = offset
            let maximum = kind.bounds.upperBound
            guard let first = peek else {
                throw CronSyntaxError("missing step after '/' in \(kind.name) field", offset: stepOffset)
            }
            guard first.isASCIIDigit else {
                if first.isASCIILetter {
                    let word = run(while: \.isASCIILetter)
                    throw CronSyntaxError("\(kind.name) step '\(word)' is not a number", offset: stepOffset)
                }
                throw CronSyntaxError("unexpected character '\(first)' in \(kind.name) field", offset: stepOffset)
            }
            let digits = run(while: \.isASCIIDigit)
            guard digits.count <= 9, let number = Int(digits), (1...maximum).contains(number) else {
                throw CronSyntaxError("\(kind.name) step \(digits) is out of range 1-\(maximum)", offset: stepOffset)
            }
            return number
        }
    }
}

extension Character {
    /// `0`–`9` only: `Character.isNumber` would also admit other scripts' digits and fractions.
    /// (`asciiValue` rather than a `"0"..."9"` range, which a `5` with a combining accent is inside.)
    fileprivate var isASCIIDigit: Bool { asciiValue.map { (0x30...0x39).contains($0) } ?? false }

    /// `a`–`z` and `A`–`Z` only, the letters month and weekday names are made of.
    fileprivate var isASCIILetter: Bool {
        asciiValue.map { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) } ?? false
    }
}
