/// A CEL `google.protobuf.Duration`: a signed span of time with nanosecond precision.
///
/// The representable range is ±315,576,000,000 seconds (about ±10,000 years), inclusive, as the
/// CEL specification requires; every operation that could leave it throws instead of wrapping.
public struct DurationValue: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// The signed length of the duration in nanoseconds.
    public var nanoseconds: Int128 { storage.value }
    private let storage: SplitInteger

    static let nanosecondsPerSecond: Int128 = 1_000_000_000
    /// The largest magnitude CEL allows: 315,576,000,000 seconds.
    static let maximumMagnitude: Int128 = 315_576_000_000 * nanosecondsPerSecond

    /// A duration of zero length.
    public static let zero = DurationValue(unchecked: 0)

    /// Creates a duration of `nanoseconds`; throws "duration out of range" outside ±315,576,000,000 s.
    public init(nanoseconds: Int128) throws(EvaluationError) {
        guard (-Self.maximumMagnitude...Self.maximumMagnitude).contains(nanoseconds) else {
            throw EvaluationError("duration out of range")
        }
        storage = SplitInteger(nanoseconds)
    }

    private init(unchecked nanoseconds: Int128) {
        storage = SplitInteger(nanoseconds)
    }

    /// Parses Go `time.ParseDuration` syntax as CEL's `duration()` accepts it, e.g. `"1h30m"`, `"-1.5s"`,
    /// `".5s"` or `"0"`; with `allowingCalendarUnits` also `d` (24 h) and `w` (7 d). Conversion is exact.
    public init(parsing text: String, allowingCalendarUnits: Bool = false) throws(EvaluationError) {
        let nanoseconds = try DurationValue.parseNanoseconds(text, allowingCalendarUnits: allowingCalendarUnits)
        try self.init(nanoseconds: nanoseconds)
    }

    /// CEL's string form: decimal seconds with the shortest exact fraction, e.g. `"1.5s"`, `"-3s"`, `"0s"`.
    public var description: String {
        let magnitude = nanoseconds.magnitude
        let perSecond = Self.nanosecondsPerSecond.magnitude
        let sign = nanoseconds < 0 ? "-" : ""
        let fraction = Self.fractionSuffix(nanosecondOfSecond: Int64(magnitude % perSecond))
        return "\(sign)\(magnitude / perSecond)\(fraction)s"
    }

    /// Orders durations from most negative to most positive.
    public static func < (lhs: DurationValue, rhs: DurationValue) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    /// The sum `self + other`; throws "duration out of range" when it exceeds the CEL range.
    public func adding(_ other: DurationValue) throws(EvaluationError) -> DurationValue {
        // Both operands are at most ~3.2e20, so the Int128 arithmetic itself cannot overflow.
        try DurationValue(nanoseconds: nanoseconds + other.nanoseconds)
    }

    /// The difference `self - other`; throws "duration out of range" when it exceeds the CEL range.
    public func subtracting(_ other: DurationValue) throws(EvaluationError) -> DurationValue {
        try DurationValue(nanoseconds: nanoseconds - other.nanoseconds)
    }

    /// The duration with the opposite sign; declared throwing for symmetry with CEL's checked
    /// negation, although the symmetric range means it currently never fails.
    public func negated() throws(EvaluationError) -> DurationValue {
        try DurationValue(nanoseconds: -nanoseconds)
    }

    /// CEL `getHours()`: whole hours, truncated toward zero.
    public var totalHours: Int64 { truncatedCount(of: 3_600 * Self.nanosecondsPerSecond) }

    /// CEL `getMinutes()`: whole minutes, truncated toward zero.
    public var totalMinutes: Int64 { truncatedCount(of: 60 * Self.nanosecondsPerSecond) }

    /// CEL `getSeconds()`: whole seconds, truncated toward zero.
    public var totalSeconds: Int64 { truncatedCount(of: Self.nanosecondsPerSecond) }

    /// CEL `getMilliseconds()`: whole milliseconds, truncated toward zero.
    public var totalMilliseconds: Int64 { truncatedCount(of: 1_000_000) }

    private func truncatedCount(of unit: Int128) -> Int64 {
        // Swift's `/` truncates toward zero; the range bound keeps every count within Int64
        // (3.2e17 milliseconds at most).
        Int64(nanoseconds / unit)
    }

    /// `".5"`-style text for a nanosecond-of-second value in 0..<1e9 with trailing zeros removed,
    /// or `""` when it is zero. Shared by the duration and timestamp string forms.
    static func fractionSuffix(nanosecondOfSecond: Int64) -> String {
        guard nanosecondOfSecond != 0 else { return "" }
        // Adding 1e9 yields a 10-digit number whose last nine digits are the zero-padded fraction.
        var digits = String(nanosecondOfSecond + 1_000_000_000).dropFirst()
        while digits.last == "0" {
            digits = digits.dropLast()
        }
        return "." + digits
    }
}

// MARK: - Parsing

extension DurationValue {
    /// Parses the whole text into a signed nanosecond count within the CEL range.
    private static func parseNanoseconds(
        _ text: String,
        allowingCalendarUnits: Bool
    ) throws(EvaluationError) -> Int128 {
        let scalars = Array(text.unicodeScalars)
        var index = 0
        let isNegative = scalars.first == "-"
        if scalars.first == "-" || scalars.first == "+" {
            index = 1
        }
        // Go accepts a bare (optionally signed) "0" without a unit, and nothing else unitless.
        if scalars[index...].elementsEqual(["0"]) {
            return 0
        }
        guard index < scalars.count else {
            throw invalid(text, "expected a number followed by a unit such as 's'")
        }
        var magnitude: Int128 = 0
        while index < scalars.count {
            magnitude += try parseComponent(of: text, scalars, at: &index, allowingCalendarUnits: allowingCalendarUnits)
            // Each component is capped at the maximum, so this running sum cannot overflow Int128.
            guard magnitude <= maximumMagnitude else {
                throw outOfRange(text)
            }
        }
        return isNegative ? -magnitude : magnitude
    }

    /// Parses one `<decimal number><unit>` component starting at `index` and returns its
    /// non-negative length in nanoseconds, advancing `index` past it.
    private static func parseComponent(
        of text: String,
        _ scalars: [Unicode.Scalar],
        at index: inout Int,
        allowingCalendarUnits: Bool
    ) throws(EvaluationError) -> Int128 {
        let start = index
        let integerDigits = scanDigits(scalars, at: &index)
        var fractionDigits: [Int128] = []
        if index < scalars.count, scalars[index] == "." {
            index += 1
            fractionDigits = scanDigits(scalars, at: &index)
        }
        guard !integerDigits.isEmpty || !fractionDigits.isEmpty else {
            throw invalid(text, "expected a number at '\(fragment(scalars, start..<scalars.count))'")
        }
        let unitStart = index
        while index < scalars.count, !isDigit(scalars[index]), scalars[index] != "." {
            index += 1
        }
        guard index > unitStart else {
            throw EvaluationError("missing unit in duration '\(text)'")
        }
        let unit = fragment(scalars, unitStart..<index)
        let unitLength = try nanoseconds(inUnit: unit, of: text, allowingCalendarUnits: allowingCalendarUnits)
        return try scaled(integerDigits: integerDigits, fractionDigits: fractionDigits, by: unitLength, text: text)
    }

    /// Computes `integer.fraction × unitLength`, truncated to whole nanoseconds, without rounding error.
    private static func scaled(
        integerDigits: [Int128],
        fractionDigits: [Int128],
        by unitLength: Int128,
        text: String
    ) throws(EvaluationError) -> Int128 {
        var integerPart: Int128 = 0
        for digit in integerDigits {
            integerPart = integerPart * 10 + digit
            // Stop early so that arbitrarily long digit strings cannot overflow.
            guard integerPart * unitLength <= maximumMagnitude else {
                throw outOfRange(text)
            }
        }
        // floor(0.d1d2…dk × unit) by long multiplication from the last digit: each step carries
        // floor((d × unit + carry) / 10), which is exact and stays below `unitLength`.
        let fractionPart = fractionDigits.reversed().reduce(Int128(0)) { carry, digit in
            (digit * unitLength + carry) / 10
        }
        return integerPart * unitLength + fractionPart
    }

    /// The length of one `unit` in nanoseconds; `d` and `w` only when calendar units are allowed.
    private static func nanoseconds(
        inUnit unit: String,
        of text: String,
        allowingCalendarUnits: Bool
    ) throws(EvaluationError) -> Int128 {
        let second = nanosecondsPerSecond
        switch unit {
        case "ns": return 1
        case "us", "\u{00B5}s", "\u{03BC}s": return 1_000  // ASCII, micro sign and Greek mu
        case "ms": return 1_000_000
        case "s": return second
        case "m": return 60 * second
        case "h": return 3_600 * second
        case "d" where allowingCalendarUnits: return 86_400 * second
        case "w" where allowingCalendarUnits: return 7 * 86_400 * second
        case "d", "w":
            throw invalid(text, "unknown unit '\(unit)' (days and weeks are not allowed here)")
        default:
            throw invalid(text, "unknown unit '\(unit)'")
        }
    }

    /// Consumes a run of ASCII digits and returns their values.
    private static func scanDigits(_ scalars: [Unicode.Scalar], at index: inout Int) -> [Int128] {
        var digits: [Int128] = []
        while index < scalars.count, isDigit(scalars[index]) {
            digits.append(Int128(scalars[index].value - Unicode.Scalar("0").value))
            index += 1
        }
        return digits
    }

    private static func isDigit(_ scalar: Unicode.Scalar) -> Bool {
        ("0"..."9").contains(scalar)
    }

    private static func fragment(_ scalars: [Unicode.Scalar], _ range: Range<Int>) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: scalars[range])
        return String(result)
    }

    private static func invalid(_ text: String, _ reason: String) -> EvaluationError {
        EvaluationError("invalid duration '\(text)': \(reason)")
    }

    private static func outOfRange(_ text: String) -> EvaluationError {
        invalid(text, "duration out of range (limit is ±315576000000s)")
    }
}
