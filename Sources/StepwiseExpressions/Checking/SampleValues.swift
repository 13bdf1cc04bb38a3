/// One ordinary value of each type, used by the checker to ask the real operators whether they
/// accept a combination of operand types (and what type they produce).
enum SampleValues {
    static func sample(of type: ValueType) -> Value? {
        switch type {
        case .null: return .null
        case .bool: return .bool(true)
        case .int: return .int(1)
        case .uint: return .uint(1)
        case .double: return .double(1)
        case .string: return .string("a")
        case .bytes: return .bytes([1])
        case .list: return .list([])
        case .map: return .map(ValueMap())
        case .type: return .type(.int)
        case .optional: return .optional(nil)
        case .timestamp: return (try? TimestampValue(secondsSinceEpoch: 1_000_000)).map(Value.timestamp)
        case .duration: return (try? DurationValue(nanoseconds: 1_000_000_000)).map(Value.duration)
        }
    }

    /// The result type of `lhs op rhs`, or `nil` when the operator rejects those types.
    static func apply(_ op: BinaryOperator, _ lhs: ValueType, _ rhs: ValueType) -> ValueType? {
        guard let left = sample(of: lhs), let right = sample(of: rhs) else { return nil }
        let budget = EvaluationBudget(.standard)
        switch op {
        case .less, .lessOrEqual, .greater, .greaterOrEqual:
            return (try? ValueOrdering.evaluate(op, left, right)).map(\.type)
        default:
            return (try? Arithmetic.evaluate(op, left, right, budget: budget)).map(\.type)
        }
    }

    /// A hint for mixed numeric operands, which CEL never converts implicitly.
    static func conversionHint(_ lhs: ValueType, _ rhs: ValueType) -> String? {
        let numeric: Set<ValueType> = [.int, .uint, .double]
        guard numeric.contains(lhs), numeric.contains(rhs) else { return nil }
        return "convert one side explicitly, e.g. double(x) or int(x)"
    }
}
