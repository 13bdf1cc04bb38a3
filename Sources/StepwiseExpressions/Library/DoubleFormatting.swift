/// Formats doubles the way CEL implementations print them (Go's `strconv.FormatFloat(d, 'g', -1, 64)`):
/// the shortest digits that read back exactly, in exponent form below 1e-4 and from 1e6 up.
enum DoubleFormatting {
    /// `123.456`, `-0.0045`, `1e+06`, `1.5e-07`, `NaN`, `+Inf`, as CEL's `string()` gives them.
    static func shortest(_ value: Double) -> String {
        guard value.isFinite else { return value.isNaN ? "NaN" : (value > 0 ? "+Inf" : "-Inf") }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        let (digits, decimalPoint) = shortestDigits(of: value.magnitude)
        let sign = value < 0 ? "-" : ""
        let exponent = decimalPoint - 1
        if exponent < -4 || exponent >= 6 {
            let mantissa = digits.count > 1 ? "\(digits.prefix(1)).\(digits.dropFirst())" : digits
            let exponentDigits = String(abs(exponent))
            return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (exponentDigits.count < 2 ? "0" : "") + exponentDigits
        }
        if decimalPoint <= 0 { return sign + "0." + String(repeating: "0", count: -decimalPoint) + digits }
        if decimalPoint >= digits.count { return sign + digits + String(repeating: "0", count: decimalPoint - digits.count) }
        return sign + digits.prefix(decimalPoint) + "." + digits.dropFirst(decimalPoint)
    }

    /// The shortest round-trip decimal digits (no leading or trailing zeros) and the position of
    /// the decimal point relative to them, taken from Swift's own shortest representation.
    private static func shortestDigits(of magnitude: Double) -> (digits: String, decimalPoint: Int) {
        let text = magnitude.description
        let parts = text.split(separator: "e", maxSplits: 1)
        let mantissa = parts[0]
        let exponent = parts.count > 1 ? Int(parts[1]) ?? 0 : 0
        let pieces = mantissa.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = String(pieces[0])
        let fraction = pieces.count > 1 ? String(pieces[1]) : ""
        var digits = whole + fraction
        var decimalPoint = whole.count + exponent
        while digits.first == "0" {
            digits.removeFirst()
            decimalPoint -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        return (digits, decimalPoint)
    }
}
