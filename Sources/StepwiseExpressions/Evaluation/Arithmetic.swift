/// CEL's arithmetic operators: checked 64-bit integer math (overflow and division by zero are
/// errors), IEEE doubles, concatenation of strings, bytes and lists, and time arithmetic.
/// Mixed `int`/`uint`/`double` operands are errors: CEL converts only explicitly.
enum Arithmetic {
    static func evaluate(
        _ operation: BinaryOperator, _ lhs: Value, _ rhs: Value, budget: EvaluationBudget
    ) throws(EvaluationError) -> Value {
        switch operation {
        case .add: return try add(lhs, rhs, budget: budget)
        case .subtract: return try subtract(lhs, rhs)
        case .multiply: return try multiply(lhs, rhs)
        case .divide: return try divide(lhs, rhs)
        default: return try remainder(lhs, rhs)
        }
    }

    static func add(_ lhs: Value, _ rhs: Value, budget: EvaluationBudget) throws(EvaluationError) -> Value {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): return .int(try checked(a.addingReportingOverflow(b)))
        case let (.uint(a), .uint(b)): return .uint(try checked(a.addingReportingOverflow(b)))
        case let (.double(a), .double(b)): return .double(a + b)
        case let (.string(a), .string(b)):
            try budget.allocate(a.utf8.count + b.utf8.count)
            return .string(a + b)
        case let (.bytes(a), .bytes(b)):
            try budget.allocate(a.count + b.count)
            return .bytes(a + b)
        case let (.list(a), .list(b)):
            try budget.allocate((a.count + b.count) * 16)
            return .list(a + b)
        case let (.timestamp(t), .duration(d)), let (.duration(d), .timestamp(t)): return .timestamp(try t.adding(d))
        case let (.duration(a), .duration(b)): return .duration(try a.adding(b))
        default: throw EvaluationError.noOverload("'+'", lhs, rhs)
        }
    }

    static func subtract(_ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): return .int(try checked(a.subtractingReportingOverflow(b)))
        case let (.uint(a), .uint(b)): return .uint(try checked(a.subtractingReportingOverflow(b)))
        case let (.double(a), .double(b)): return .double(a - b)
        case let (.timestamp(a), .timestamp(b)): return .duration(try a.difference(b))
        case let (.timestamp(t), .duration(d)): return .timestamp(try t.subtracting(d))
        case let (.duration(a), .duration(b)): return .duration(try a.subtracting(b))
        default: throw EvaluationError.noOverload("'-'", lhs, rhs)
        }
    }

    static func multiply(_ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)): return .int(try checked(a.multipliedReportingOverflow(by: b)))
        case let (.uint(a), .uint(b)): return .uint(try checked(a.multipliedReportingOverflow(by: b)))
        case let (.double(a), .double(b)): return .double(a * b)
        default: throw EvaluationError.noOverload("'*'", lhs, rhs)
        }
    }

    static func divide(_ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)):
            guard b != 0 else { throw EvaluationError("division by zero") }
            return .int(try checked(a.dividedReportingOverflow(by: b)))
        case let (.uint(a), .uint(b)):
            guard b != 0 else { throw EvaluationError("division by zero") }
            return .uint(a / b)
        case let (.double(a), .double(b)): return .double(a / b)
        default: throw EvaluationError.noOverload("'/'", lhs, rhs)
        }
    }

    static func remainder(_ lhs: Value, _ rhs: Value) throws(EvaluationError) -> Value {
        switch (lhs, rhs) {
        case let (.int(a), .int(b)):
            guard b != 0 else { throw EvaluationError("modulus by zero") }
            return .int(try checked(a.remainderReportingOverflow(dividingBy: b)))
        case let (.uint(a), .uint(b)):
            guard b != 0 else { throw EvaluationError("modulus by zero") }
            return .uint(a % b)
        default: throw EvaluationError.noOverload("'%'", lhs, rhs)
        }
    }

    static func negate(_ value: Value) throws(EvaluationError) -> Value {
        switch value {
        case .int(let i): return .int(try checked(Int64(0).subtractingReportingOverflow(i)))
        case .double(let d): return .double(-d)
        case .duration(let d): return .duration(try d.negated())
        default: throw EvaluationError.noOverload("unary '-'", value)
        }
    }

    private static func checked<T>(_ result: (partialValue: T, overflow: Bool)) throws(EvaluationError) -> T {
        guard !result.overflow else { throw EvaluationError("integer overflow") }
        return result.partialValue
    }
}
