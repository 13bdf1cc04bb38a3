import StepwiseExpressions

/// Why a step or a run failed: a message, a type (`HTTPError`, `Timeout`, a `fail` step's type)
/// and the path of the step, available as `error` in `catch` and `on_failure`.
public struct StepError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var type: String
    public var step: String?
    /// The HTTP status when the failure was a response.
    public var status: Int?

    public init(message: String, type: String, step: String? = nil, status: Int? = nil) {
        self.message = message
        self.type = type
        self.step = step
        self.status = status
    }

    /// The failure of a run that went on past its workflow's `timeout` of `limit`.
    public static func runTimeout(_ limit: DurationValue) -> StepError {
        StepError(message: "the run exceeded its timeout of \(limit)", type: "Timeout")
    }

    /// The error as the `error` variable of expressions.
    public var value: Value {
        var map = ValueMap([("message", .string(message)), ("type", .string(type))])
        map[.string("step")] = step.map(Value.string) ?? .null
        if let status { map[.string("status")] = .int(Int64(status)) }
        return .map(map)
    }

    /// Reads an error written by `value`; `nil` when it is not one.
    public init?(value: Value) {
        guard case .map(let map) = value, case .string(let message)? = map[.string("message")] else { return nil }
        self.message = message
        type = map[.string("type")].flatMap(\.text) ?? "Error"
        step = map[.string("step")].flatMap(\.text)
        if case .int(let status)? = map[.string("status")] { self.status = Int(status) }
    }

    public var description: String { "\(type): \(message)" + (step.map { " (step \($0))" } ?? "") }
}
