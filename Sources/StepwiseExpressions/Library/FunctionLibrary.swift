/// Every function of Stepwise's expression language: CEL's standard functions and the strings,
/// math, encoders and optional-value extension libraries.
enum FunctionLibrary {
    static let globals: [String: LibraryFunction] = index(.global)
    static let methods: [String: LibraryFunction] = index(.method)

    private enum Kind { case global, method }

    private static let all: [LibraryFunction] =
        StandardFunctions.functions + Conversions.functions + StringFunctions.functions
        + MathFunctions.functions + TimeFunctions.functions + OptionalFunctions.functions
        + EncoderFunctions.functions

    private static func index(_ kind: Kind) -> [String: LibraryFunction] {
        var table: [String: LibraryFunction] = [:]
        for function in all {
            switch (function.style, kind) {
            case (.global, .global), (.method, .method): table[function.name] = function
            default: continue
            }
        }
        return table
    }

    /// Whether `name` (possibly namespaced, `math.greatest`) is a global function.
    static func hasGlobal(_ name: String) -> Bool { globals[name] != nil }

    /// Calls the global function `name`.
    static func callGlobal(_ name: String, _ arguments: [Value], budget: EvaluationBudget) throws(EvaluationError) -> Value {
        guard let function = globals[name] else {
            if methods[name] != nil {
                throw EvaluationError("'\(name)' is a method: call it as value.\(name)(…)")
            }
            throw EvaluationError("undeclared function '\(name)'")
        }
        return try invoke(function, target: .null, arguments, budget: budget)
    }

    /// Calls the method `name` on `target`.
    static func callMethod(_ name: String, on target: Value, _ arguments: [Value], budget: EvaluationBudget) throws(EvaluationError) -> Value {
        guard let function = methods[name] else {
            throw EvaluationError("undeclared method '\(name)' on a value of type \(target.type.name)")
        }
        if case .method(let receivers) = function.style, !receivers.contains(target.type) {
            throw EvaluationError(
                "no such overload: \(target.type.name).\(name)(\(arguments.map(\.type.name).joined(separator: ", ")))")
        }
        return try invoke(function, target: target, arguments, budget: budget)
    }

    private static func invoke(
        _ function: LibraryFunction, target: Value, _ arguments: [Value], budget: EvaluationBudget
    ) throws(EvaluationError) -> Value {
        guard function.accepts(argumentCount: arguments.count) else {
            throw EvaluationError("\(function.name)() takes \(function.arityDescription), got \(arguments.count)")
        }
        let invocation = Invocation(
            target: target, arguments: arguments, budget: budget, name: function.name, isMethod: function.isMethod)
        let result = try function.body(invocation)
        try budget.allocate(result)
        return result
    }
}
