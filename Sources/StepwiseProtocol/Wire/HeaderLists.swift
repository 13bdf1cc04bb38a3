import StepwiseExpressions

/// Headers in the JSON shape of Go's `http.Header`, `{"Name": ["v1", "v2"]}`, used by callback and
/// failure-callback bodies, call results and waiters.
enum HeaderLists {
    /// The JSON object of `headers`, names in the given order.
    static func json(_ headers: [(name: String, values: [String])]) -> Value {
        .map(ValueMap(headers.map { ($0.name, Value.list($0.values.map(Value.string))) }))
    }

    /// Reads the object; `nil` when absent or `null`. A bare string value is accepted as a
    /// one-element list because some SDK fixtures write headers that way.
    static func read(_ value: Value?, what: String) throws(ProtocolError) -> [(name: String, values: [String])]? {
        guard let value, value != .null else { return nil }
        let map = try WireJSON.object(value, what: what)
        var headers: [(name: String, values: [String])] = []
        for (key, entry) in map.entries {
            guard case .string(let name) = key else { throw ProtocolError("\(what) has a non-string name") }
            switch entry {
            case .string(let single): headers.append((name, [single]))
            case .list(let items):
                var values: [String] = []
                for item in items {
                    guard case .string(let text) = item else { throw ProtocolError("\(what): '\(name)' must hold strings") }
                    values.append(text)
                }
                headers.append((name, values))
            default: throw ProtocolError("\(what): '\(name)' must be a list of strings")
            }
        }
        return headers
    }

    /// The first value of each header of a request's JSON member (an invoke's `headers`, a wait's
    /// `timeoutHeaders`), which the engine sends on later: each must be one HTTP can carry
    /// (`HeaderFieldSyntax`), and the error says which is not.
    static func sendable(_ value: Value?, what: String) throws(ProtocolError) -> [(name: String, value: String)] {
        var headers: [(name: String, value: String)] = []
        for header in try read(value, what: what) ?? [] {
            guard let first = header.values.first else { continue }
            try ProtocolError.locating(what) { () throws(ProtocolError) in try HeaderFieldSyntax.check(name: header.name, value: first) }
            headers.append((header.name, first))
        }
        return headers
    }
}
