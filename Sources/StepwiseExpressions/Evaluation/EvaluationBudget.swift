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

    /// Counts a step for every node of a list or map that an operation walks (equality, `in`):
    /// a value whose parts are shared may have far more nodes than its memory suggests. Throws
    /// once the step limit is passed, so the count stops there too.
    func walk(_ value: Value) throws(EvaluationError) {
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
