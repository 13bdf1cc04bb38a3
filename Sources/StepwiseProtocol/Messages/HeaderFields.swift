import StepwiseExpressions

/// The headers of a request or batch item, looked up case-insensitively because the SDKs spell
/// the same header differently (`Upstash-Workflow-RunId`, `upstash-workflow-runid`, Python's
/// `Upstash-Workflow-Runid`). Names keep their original spelling for forwarding and errors.
public struct HeaderFields: Sendable, Equatable {
    /// The fields in arrival order.
    public private(set) var fields: [(name: String, value: String)]

    /// Headers with the given fields.
    public init(_ fields: [(name: String, value: String)] = []) {
        self.fields = fields
    }

    /// The first field named `name` (any case), with its original spelling.
    public func field(_ name: String) -> (name: String, value: String)? {
        fields.first { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// The value of the first field named `name` (any case).
    public subscript(name: String) -> String? { field(name)?.value }

    /// The fields whose name starts with `prefix` (any case), named by the rest of their name in
    /// its original spelling: `Upstash-Forward-X-Id` under `upstash-forward-` is `X-Id`.
    public func suffixes(after prefix: String) -> [(name: String, value: String)] {
        let wanted = prefix.lowercased()
        return fields.compactMap { field in
            guard field.name.lowercased().hasPrefix(wanted), field.name.utf8.count > wanted.utf8.count else { return nil }
            return (String(field.name.dropFirst(prefix.count)), field.value)
        }
    }

    /// Adds a field at the end.
    public mutating func append(_ name: String, _ value: String) {
        fields.append((name, value))
    }

    /// Removes every field named `name` (any case).
    public mutating func remove(_ name: String) {
        fields.removeAll { $0.name.equalsIgnoringASCIICase(name) }
    }

    /// The fields as Go's `http.Header` holds them, which is how QStash reports every header it
    /// saw (a callback's `header`, a webhook's request): one entry per name in its canonical
    /// spelling (`canonicalName`), values in arrival order, names in first-seen order.
    public var canonicallyGrouped: [(name: String, values: [String])] {
        var grouped: [(name: String, values: [String])] = []
        // Through an index: a request may carry thousands of fields.
        var positions: [String: Int] = [:]
        for field in fields {
            let name = Self.canonicalName(field.name)
            if let index = positions[name] {
                grouped[index].values.append(field.value)
            } else {
                positions[name] = grouped.count
                grouped.append((name, [field.value]))
            }
        }
        return grouped
    }

    /// `name` as Go (QStash's language) spells every header: an ASCII capital at the start and
    /// after each `-`, the other ASCII letters in lower case (`x-echo` is `X-Echo`).
    public static func canonicalName(_ name: String) -> String {
        var startsWord = true
        let bytes = name.utf8.map { byte in
            defer { startsWord = byte == UInt8(ascii: "-") }
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z") where startsWord: return byte - 32
            case UInt8(ascii: "A")...UInt8(ascii: "Z") where !startsWord: return byte + 32
            default: return byte
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func == (lhs: HeaderFields, rhs: HeaderFields) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.name == $1.name && $0.value == $1.value }
    }
}
