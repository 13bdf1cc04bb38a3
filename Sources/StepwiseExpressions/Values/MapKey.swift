/// A key of a CEL map: a bool, an integer or a string.
///
/// Integer keys compare by value across `int` and `uint`, so `{1u: 'a'}[1]` finds the entry;
/// strings compare by code points (not by Unicode canonical equivalence as Swift's `String` does).
public enum MapKey: Sendable {
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case string(String)

    /// The key for `value`, or `nil` when the value cannot be a map key.
    ///
    /// A `double` with an exact integer value finds the integer key, as CEL's lookup does.
    public init?(_ value: Value) {
        switch value {
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .int(i)
        case .uint(let u): self = .uint(u)
        case .string(let s): self = .string(s)
        case .double(let d):
            if let i = Int64(exactly: d) {
                self = .int(i)
            } else if let u = UInt64(exactly: d) {
                self = .uint(u)
            } else {
                return nil
            }
        default: return nil
        }
    }

    /// The key as a value.
    public var value: Value {
        switch self {
        case .bool(let b): .bool(b)
        case .int(let i): .int(i)
        case .uint(let u): .uint(u)
        case .string(let s): .string(s)
        }
    }

    /// The key as text, for JSON object member names and messages.
    public var text: String {
        switch self {
        case .bool(let b): String(b)
        case .int(let i): String(i)
        case .uint(let u): String(u)
        case .string(let s): s
        }
    }
}

extension MapKey: Hashable {
    public static func == (lhs: MapKey, rhs: MapKey) -> Bool {
        switch (lhs, rhs) {
        case let (.bool(a), .bool(b)): a == b
        case let (.string(a), .string(b)): a.utf8.elementsEqual(b.utf8)
        case let (.int(a), .int(b)): a == b
        case let (.uint(a), .uint(b)): a == b
        case let (.int(a), .uint(b)), let (.uint(b), .int(a)): a >= 0 && UInt64(a) == b
        default: false
        }
    }

    public func hash(into hasher: inout Hasher) {
        switch self {
        case .bool(let b):
            hasher.combine(0)
            hasher.combine(b)
        case .int(let i):
            // Same bits as the equal uint for non-negative values, so int and uint keys collide.
            hasher.combine(1)
            hasher.combine(UInt64(bitPattern: i))
        case .uint(let u):
            hasher.combine(1)
            hasher.combine(u)
        case .string(let s):
            hasher.combine(2)
            for byte in s.utf8 { hasher.combine(byte) }
        }
    }
}
