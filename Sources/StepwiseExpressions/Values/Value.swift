/// A value Stepwise computes with: JSON's values with exact 64-bit integers, plus the CEL values
/// JSON lacks (bytes, timestamps, durations, types and optionals).
///
/// Equality (`==`) follows CEL: numbers compare by mathematical value across `int`, `uint` and
/// `double`, lists element-wise, maps by key set; values of unrelated types are unequal.
public enum Value: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case bytes([UInt8])
    case list([Value])
    case map(ValueMap)
    case timestamp(TimestampValue)
    case duration(DurationValue)
    case type(ValueType)
    /// CEL's `optional_type`: `nil` is `optional.none()`.
    indirect case optional(Value?)

    /// The CEL type of this value, as `type(value)` reports it.
    public var type: ValueType {
        switch self {
        case .null: .null
        case .bool: .bool
        case .int: .int
        case .uint: .uint
        case .double: .double
        case .string: .string
        case .bytes: .bytes
        case .list: .list
        case .map: .map
        case .timestamp: .timestamp
        case .duration: .duration
        case .type: .type
        case .optional: .optional
        }
    }
}

extension Value: Equatable {
    /// CEL equality: heterogeneous numeric comparison, structural lists and maps, `NaN != NaN`.
    public static func == (lhs: Value, rhs: Value) -> Bool {
        switch (lhs, rhs) {
        case (.null, .null): return true
        case let (.bool(a), .bool(b)): return a == b
        case let (.string(a), .string(b)): return a.utf8.elementsEqual(b.utf8)
        case let (.bytes(a), .bytes(b)): return a == b
        case let (.list(a), .list(b)): return a.count == b.count && zip(a, b).allSatisfy { $0 == $1 }
        case let (.map(a), .map(b)): return a == b
        case let (.timestamp(a), .timestamp(b)): return a == b
        case let (.duration(a), .duration(b)): return a == b
        case let (.type(a), .type(b)): return a == b
        case let (.optional(a), .optional(b)): return a == b
        default:
            guard let order = NumericOrder.compare(lhs, rhs) else { return false }
            return order == .equal
        }
    }
}

extension Value: ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int64) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(stringLiteral value: String) { self = .string(value) }
    public init(arrayLiteral elements: Value...) { self = .list(elements) }
    /// Builds a map from string keys; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, Value)...) {
        var map = ValueMap()
        for (key, value) in elements { map[.string(key)] = value }
        self = .map(map)
    }
}

extension Value {
    /// The map's entry for a string key, or `nil` when this is not a map or has no such key.
    public subscript(key: String) -> Value? {
        guard case .map(let map) = self else { return nil }
        return map[.string(key)]
    }
}
