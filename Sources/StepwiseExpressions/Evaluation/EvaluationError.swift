/// Why an expression could not be evaluated, and where.
///
/// Most errors are values in CEL's sense: `&&`, `||` and the `all`/`exists` macros may absorb them
/// when the other side decides the result. Exceeding the evaluation budget is never absorbed.
public struct EvaluationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What kind of failure this is.
    public enum Kind: Sendable, Equatable {
        /// An operation without meaning for its operands: no such key, overflow, division by zero, …
        case invalidOperation
        /// The expression exceeded its step or memory budget (`EvaluationLimits`).
        case budgetExceeded
        /// A `{secret: NAME}` whose value the environment does not hold.
        case secretMissing
        /// A value rendered where HTTP cannot carry it (a header value with a line break).
        case unsendable
    }

    /// What went wrong, in words a person understands.
    public var message: String
    /// Offset in the expression source (Unicode scalars) of the node that failed, when known.
    public var offset: Int?
    public var kind: Kind

    public init(_ message: String, offset: Int? = nil, kind: Kind = .invalidOperation) {
        self.message = message
        self.offset = offset
        self.kind = kind
    }

    public var description: String { message }

    /// "no such overload" for an operation applied to values of the wrong types.
    static func noOverload(_ operation: String, _ values: Value...) -> EvaluationError {
        EvaluationError("no such overload: \(operation) is not defined for (\(values.map(\.type.name).joined(separator: ", ")))")
    }
}
