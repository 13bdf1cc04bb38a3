extension Value {
    /// The deepest a value a run holds may nest: 500 levels. What stores it (a journal entry, a
    /// step's result, a run's view) wraps it in a few levels of its own, and every record is read
    /// back with JSON's limit of 512: a value deeper than this could be written but not read.
    public static let maximumNesting = 500

    /// Whether the value nests deeper than `limit` levels (a scalar is at level 0; each list or
    /// map adds one), looking no deeper than needed to tell.
    public func isNested(deeperThan limit: Int) -> Bool {
        switch self {
        case .list(let items):
            return limit <= 0 || items.contains { $0.isNested(deeperThan: limit - 1) }
        case .map(let map):
            return limit <= 0 || map.entries.contains { $0.1.isNested(deeperThan: limit - 1) }
        default:
            return false
        }
    }
}

extension Value {
    /// Throws when the value cannot be kept by a run: larger than `limits.maximumWrittenBytes`
    /// written as JSON, or nested deeper than `maximumNesting` levels. What an expression or a
    /// template puts together is checked once, here.
    public func checkKeepable(within limits: EvaluationLimits) throws(EvaluationError) {
        if isWritten(largerThan: limits.maximumWrittenBytes) { throw .tooLargeToWrite(limits) }
        if isNested(deeperThan: Self.maximumNesting) { throw .tooDeepToKeep }
    }
}

extension EvaluationError {
    /// A value nested deeper than `Value.maximumNesting` levels.
    public static let tooDeepToKeep = EvaluationError(
        "the value is nested deeper than \(Value.maximumNesting) levels, the most a run keeps", kind: .budgetExceeded)
}
