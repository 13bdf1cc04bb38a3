/// The option headers behind one prefix (`Upstash-`, `Upstash-Callback-`, `Upstash-Failure-Callback-`,
/// `Upstash-Callback-Failure-Callback-`), read as typed values. Every error names the header as the
/// client spelled it.
struct OptionHeaders {
    let headers: HeaderFields
    /// Lowercase, ends with `-`.
    let prefix: String

    /// The raw value of option `name` (`retries` is `<prefix>retries`).
    func text(_ name: String) -> String? {
        headers[prefix + name]
    }

    /// The value of option `name` read by `parse`; a parse error is located at the header.
    func parsed<T>(_ name: String, _ parse: (String) throws(ProtocolError) -> T) throws(ProtocolError) -> T? {
        guard let field = headers.field(prefix + name) else { return nil }
        return try ProtocolError.locating("header '\(field.name)'") { () throws(ProtocolError) in try parse(field.value) }
    }

    /// A `true`/`false` option (any case).
    func flag(_ name: String) throws(ProtocolError) -> Bool? {
        try parsed(name) { (text) throws(ProtocolError) in
            switch text.lowercased() {
            case "true": return true
            case "false": return false
            default: throw ProtocolError("'\(text)' is not true or false")
            }
        }
    }

    /// A non-negative integer option.
    func count(_ name: String) throws(ProtocolError) -> Int? {
        try parsed(name) { (text) throws(ProtocolError) in
            guard let number = Int(text.trimmingSpaces()), number >= 0 else { throw ProtocolError("'\(text)' is not a non-negative integer") }
            return number
        }
    }

    /// A duration option; `bareSeconds` also accepts a plain number of seconds.
    func duration(_ name: String, bareSeconds: Bool) throws(ProtocolError) -> WireDuration? {
        try parsed(name) { (text) throws(ProtocolError) in try WireDuration(parsing: text.trimmingSpaces(), bareSeconds: bareSeconds) }
    }

    /// The headers to forward: `<prefix>forward-<H>` becomes `<H>`.
    var forwarded: [(name: String, value: String)] {
        headers.suffixes(after: prefix + "forward-")
    }
}
