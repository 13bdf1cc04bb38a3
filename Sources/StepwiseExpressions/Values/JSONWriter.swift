/// Writes a `Value` as JSON text.
///
/// JSON has no bytes, timestamps, durations or types, so they are written as strings (base64,
/// RFC 3339, CEL duration text, type name); non-finite doubles become `"NaN"`/`"Infinity"`/`"-Infinity"`;
/// an optional is its value or `null`. Integers are written exactly; doubles keep a fraction or exponent.
struct JSONWriter {
    var pretty: Bool
    private(set) var output = ""

    init(pretty: Bool) {
        self.pretty = pretty
    }

    mutating func write(_ value: Value, indent: Int = 0) {
        switch value {
        case .null: output += "null"
        case .bool(let b): output += b ? "true" : "false"
        case .int(let i): output += String(i)
        case .uint(let u): output += String(u)
        case .double(let d): writeDouble(d)
        case .string(let s): writeString(s)
        case .bytes(let b): writeString(Base64.encode(b))
        case .timestamp(let t): writeString(t.description)
        case .duration(let d): writeString(d.description)
        case .type(let t): writeString(t.name)
        case .optional(let wrapped): write(wrapped ?? .null, indent: indent)
        case .list(let elements): writeList(elements, indent: indent)
        case .map(let map): writeMap(map, indent: indent)
        }
    }

    private mutating func writeDouble(_ d: Double) {
        guard d.isFinite else {
            writeString(d.isNaN ? "NaN" : (d > 0 ? "Infinity" : "-Infinity"))
            return
        }
        output += d.description
    }

    private mutating func writeList(_ elements: [Value], indent: Int) {
        guard !elements.isEmpty else {
            output += "[]"
            return
        }
        output += "["
        for (position, element) in elements.enumerated() {
            if position > 0 { output += "," }
            newline(indent + 1)
            write(element, indent: indent + 1)
        }
        newline(indent)
        output += "]"
    }

    private mutating func writeMap(_ map: ValueMap, indent: Int) {
        guard !map.isEmpty else {
            output += "{}"
            return
        }
        output += "{"
        for (position, (key, value)) in map.entries.enumerated() {
            if position > 0 { output += "," }
            newline(indent + 1)
            writeString(key.text)
            output += pretty ? ": " : ":"
            write(value, indent: indent + 1)
        }
        newline(indent)
        output += "}"
    }

    private mutating func newline(_ indent: Int) {
        guard pretty else { return }
        output += "\n" + String(repeating: "  ", count: indent)
    }

    private mutating func writeString(_ s: String) {
        StringEscaping.appendQuoted(s, style: .json, to: &output)
    }
}
