import StepwiseExpressions

/// What the steps that take a computed value accept: a sleep's length, a time to sleep until,
/// the items of a `for_each`. One rule for the interpreter, which fails the step with it (a
/// `TypeError`), and for the validator, which checks a value it can compute before any run.
public enum StepValues {
    /// A sleep's length: a duration, or text such as `3d` or `1h30m`; never negative.
    public static func sleepLength(_ value: Value) throws(EvaluationError) -> DurationValue {
        switch value {
        case .duration(let length) where length >= .zero:
            return length
        case .string(let text):
            let length = try DurationValue(parsing: text, allowingCalendarUnits: true)
            guard length >= .zero else { throw EvaluationError("a sleep cannot be negative: \(text)") }
            return length
        case .duration:
            throw EvaluationError("a sleep cannot be negative: \(value.jsonText())")
        default:
            throw EvaluationError("sleep needs a duration, got \(value.type.name)")
        }
    }

    /// The time of a `sleep_until`: a timestamp, or RFC 3339 text.
    public static func instant(_ value: Value) throws(EvaluationError) -> TimestampValue {
        switch value {
        case .timestamp(let instant): return instant
        case .string(let text): return try TimestampValue(parsing: text)
        default: throw EvaluationError("sleep_until needs a time, got \(value.type.name)")
        }
    }

    /// The items of a `for_each`: a list.
    public static func items(_ value: Value) throws(EvaluationError) -> [Value] {
        guard case .list(let items) = value else { throw EvaluationError("for_each needs a list of items, got \(value.type.name)") }
        return items
    }

    /// The value of `template` when it can be computed before any run: written as data, or
    /// expressions that read no variable (`${{ duration('90m') }}`); `nil` otherwise.
    public static func constant(_ template: ValueTemplate) -> Value? {
        if let literal = template.literalValue { return literal }
        guard case .template(let parsed, _, _) = template.kind else { return nil }
        return try? parsed.render([:])
    }
}
