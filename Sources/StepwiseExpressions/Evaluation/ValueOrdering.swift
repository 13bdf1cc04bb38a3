/// CEL's ordering relations (`<`, `<=`, `>`, `>=`): defined for bools, numbers (across numeric
/// types), strings (by code point), bytes, timestamps and durations.
enum ValueOrdering {
    /// The order of two values; `nil` when a `NaN` makes them unordered (every comparison is then false).
    static func compare(_ lhs: Value, _ rhs: Value, operation: BinaryOperator) throws(EvaluationError) -> Ordering? {
        switch (lhs, rhs) {
        case let (.bool(a), .bool(b)): return Ordering(a ? 1 : 0, b ? 1 : 0)
        case let (.string(a), .string(b)): return compareBytes(a.utf8, b.utf8)
        case let (.bytes(a), .bytes(b)): return compareBytes(a, b)
        case let (.timestamp(a), .timestamp(b)): return Ordering(a, b)
        case let (.duration(a), .duration(b)): return Ordering(a, b)
        default:
            guard lhs.isNumber, rhs.isNumber else {
                throw EvaluationError.noOverload("'\(operation.rawValue)'", lhs, rhs)
            }
            return NumericOrder.compare(lhs, rhs)
        }
    }

    /// Evaluates one ordering operator.
    static func evaluate(_ operation: BinaryOperator, _ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        guard let order = try compare(lhs, rhs, operation: operation) else { return .bool(false) }
        switch operation {
        case .less: return .bool(order == .less)
        case .lessOrEqual: return .bool(order != .greater)
        case .greater: return .bool(order == .greater)
        default: return .bool(order != .less)
        }
    }

    /// UTF-8 byte order equals code point order, which is what CEL specifies for strings.
    private static func compareBytes<C: Collection>(_ a: C, _ b: C) -> Ordering where C.Element == UInt8 {
        if a.elementsEqual(b) { return .equal }
        return a.lexicographicallyPrecedes(b) ? .less : .greater
    }
}

extension Value {
    var isNumber: Bool {
        switch self {
        case .int, .uint, .double: true
        default: false
        }
    }
}
