import StepwiseExpressions

/// Types plain YAML scalars by the YAML 1.2 core schema, as the language asks for them: `null`,
/// `true`/`false`, integers and floats. Quoted scalars are always strings, and so are YAML 1.1's
/// `yes`/`no`/`on`/`off` (see `isYAML11Boolean`).
enum ScalarTyping {
    static func value(of text: String, isPlain: Bool) -> Value {
        guard isPlain else { return .string(text) }
        switch text {
        case "", "~", "null", "Null", "NULL": return .null
        case "true", "True", "TRUE": return .bool(true)
        case "false", "False", "FALSE": return .bool(false)
        case ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF": return .double(.infinity)
        case "-.inf", "-.Inf", "-.INF": return .double(-.infinity)
        case ".nan", ".NaN", ".NAN": return .double(.nan)
        default: return number(text) ?? .string(text)
        }
    }

    /// Words YAML 1.1 read as booleans; in Stepwise they are strings, which surprises people.
    static func isYAML11Boolean(_ text: String) -> Bool {
        ["yes", "Yes", "YES", "no", "No", "NO", "on", "On", "ON", "off", "Off", "OFF", "y", "Y", "n", "N"].contains(text)
    }

    private static func number(_ text: String) -> Value? {
        let scalars = Array(text.unicodeScalars)
        guard let first = scalars.first, first.properties.numericType != nil || "+-.".unicodeScalars.contains(first) else {
            return nil
        }
        if text.hasPrefix("0x"), let value = Int64(text.dropFirst(2), radix: 16) { return .int(value) }
        if text.hasPrefix("0o"), let value = Int64(text.dropFirst(2), radix: 8) { return .int(value) }
        if isInteger(scalars) {
            if let value = Int64(text) { return .int(value) }
            if let value = UInt64(text.hasPrefix("+") ? String(text.dropFirst()) : text) { return .uint(value) }
            return Double(text).map(Value.double)
        }
        guard isFloat(scalars) else { return nil }
        return Double(text).map(Value.double)
    }

    private static func isInteger(_ scalars: [Unicode.Scalar]) -> Bool {
        let digits = scalars.first == "-" || scalars.first == "+" ? scalars.dropFirst() : scalars[...]
        return !digits.isEmpty && digits.allSatisfy { ("0"..."9").contains($0) }
    }

    /// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
    private static func isFloat(_ scalars: [Unicode.Scalar]) -> Bool {
        var index = 0
        func digits() -> Int {
            let start = index
            while index < scalars.count, ("0"..."9").contains(scalars[index]) { index += 1 }
            return index - start
        }
        if index < scalars.count, scalars[index] == "-" || scalars[index] == "+" { index += 1 }
        let whole = digits()
        var fraction = 0
        if index < scalars.count, scalars[index] == "." {
            index += 1
            fraction = digits()
        }
        guard whole + fraction > 0 else { return false }
        if index < scalars.count, scalars[index] == "e" || scalars[index] == "E" {
            index += 1
            if index < scalars.count, scalars[index] == "-" || scalars[index] == "+" { index += 1 }
            guard digits() > 0 else { return false }
        }
        return index == scalars.count
    }
}
