/// What remains of an evaluation's `EvaluationLimits`; one per evaluation, never shared.
final class EvaluationBudget {
    private let limits: EvaluationLimits
    private var steps = 0
    private var memory = 0

    init(_ limits: EvaluationLimits) {
        self.limits = limits
    }

    /// Counts `count` steps; throws once the step limit is passed.
    func step(_ count: Int = 1) throws(EvaluationError) {
        steps += count
        guard steps <= limits.maximumSteps else {
            throw EvaluationError(
                "expression exceeded its budget of \(limits.maximumSteps) evaluation steps", kind: .budgetExceeded)
        }
    }

    /// Counts the steps of comparing `a` with `b` (equality, `in`): nothing when the comparison
    /// ends at once (a container with a scalar, lists of different lengths), else a step for every
    /// node of `a`, since a value whose parts are shared may have far more nodes than its memory
    /// suggests. Throws once the step limit is passed, so the count stops there too.
    func walk(comparing a: Value, _ b: Value) throws(EvaluationError) {
        switch (a, b) {
        case (.list(let x), .list(let y)) where x.count == y.count: try walk(a)
        case (.map(let x), .map(let y)) where x.count == y.count: try walk(a)
        default: return
        }
    }

    /// Counts a step for every node of a list or map.
    private func walk(_ value: Value) throws(EvaluationError) {
        switch value {
        case .list(let items):
            try step()
            for item in items { try walk(item) }
        case .map(let map):
            try step()
            for item in map.values { try walk(item) }
        case .optional(let wrapped?):
            try walk(wrapped)
        default:
            return
        }
    }

    /// Throws the memory budget's error when text made of `value` (its written size) could not fit
    /// in what is left of the budget: checked before such text is built, since a value whose
    /// parts are shared writes far more than it holds.
    func reserveText(of value: Value) throws(EvaluationError) {
        guard value.isWritten(largerThan: max(0, limits.maximumMemoryBytes - memory)) else { return }
        try allocate(limits.maximumMemoryBytes + 1)
    }

    /// Counts `bytes` of newly created values; throws once the memory limit is passed.
    func allocate(_ bytes: Int) throws(EvaluationError) {
        memory += bytes
        guard memory <= limits.maximumMemoryBytes else {
            throw EvaluationError(
                "expression exceeded its memory budget of \(limits.maximumMemoryBytes) bytes", kind: .budgetExceeded)
        }
    }

    /// Counts the shallow size of a freshly created value.
    func allocate(_ value: Value) throws(EvaluationError) {
        switch value {
        case .string(let s): try allocate(s.utf8.count + 16)
        case .bytes(let b): try allocate(b.count + 16)
        case .list(let l): try allocate(l.count * 16 + 16)
        case .map(let m): try allocate(m.count * 48 + 16)
        default: break
        }
    }
}
