/// One function of the expression language: its name, how it is called, how many arguments it
/// takes, and its implementation. The checker uses the same table to report unknown functions
/// and wrong argument counts before anything runs.
struct LibraryFunction: Sendable {
    /// How a function is written at the call site.
    enum Style: Sendable {
        /// `name(arguments)`, including namespaced names such as `math.greatest`.
        case global
        /// `receiver.name(arguments)`, defined for receivers of the given types.
        case method(receivers: Set<ValueType>)
    }

    let name: String
    let style: Style
    /// Accepted argument counts, not counting a method's receiver; `nil` upper bound means variadic.
    let minimumArguments: Int
    let maximumArguments: Int?
    let body: @Sendable (Invocation) throws(EvaluationError) -> Value

    init(
        _ name: String, _ style: Style, arguments: ClosedRange<Int>,
        _ body: @escaping @Sendable (Invocation) throws(EvaluationError) -> Value
    ) {
        self.name = name
        self.style = style
        minimumArguments = arguments.lowerBound
        maximumArguments = arguments.upperBound
        self.body = body
    }

    init(
        variadic name: String, atLeast minimum: Int,
        _ body: @escaping @Sendable (Invocation) throws(EvaluationError) -> Value
    ) {
        self.name = name
        style = .global
        minimumArguments = minimum
        maximumArguments = nil
        self.body = body
    }

    var isMethod: Bool {
        if case .method = style { return true }
        return false
    }

    /// Whether `count` arguments are accepted.
    func accepts(argumentCount count: Int) -> Bool {
        count >= minimumArguments && count <= (maximumArguments ?? Int.max)
    }

    /// The accepted counts in words, for messages ("1 or 2 arguments").
    var arityDescription: String {
        guard let maximumArguments else { return "at least \(minimumArguments) argument\(minimumArguments == 1 ? "" : "s")" }
        if minimumArguments == maximumArguments {
            return "\(minimumArguments) argument\(minimumArguments == 1 ? "" : "s")"
        }
        if maximumArguments == minimumArguments + 1 { return "\(minimumArguments) or \(maximumArguments) arguments" }
        return "\(minimumArguments) to \(maximumArguments) arguments"
    }
}

/// The values a function is called with.
struct Invocation {
    /// The receiver of a method call; `.null` for a global call.
    let target: Value
    let arguments: [Value]
    let budget: EvaluationBudget
    let name: String
    let isMethod: Bool

    subscript(position: Int) -> Value { arguments[position] }

    /// The error for arguments of types the function does not handle.
    var noOverload: EvaluationError {
        if !isMethod {
            return EvaluationError("no such overload: \(name)(\(arguments.map(\.type.name).joined(separator: ", ")))")
        }
        return EvaluationError(
            "no such overload: \(target.type.name).\(name)(\(arguments.map(\.type.name).joined(separator: ", ")))")
    }

    /// The string receiver or first argument, or a no-overload error.
    func string(_ value: Value) throws(EvaluationError) -> String {
        guard case .string(let s) = value else { throw noOverload }
        return s
    }

    /// The int argument, or a no-overload error.
    func int(_ value: Value) throws(EvaluationError) -> Int64 {
        guard case .int(let i) = value else { throw noOverload }
        return i
    }

    /// The double argument, or a no-overload error.
    func double(_ value: Value) throws(EvaluationError) -> Double {
        guard case .double(let d) = value else { throw noOverload }
        return d
    }
}
