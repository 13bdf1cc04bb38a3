import StepwiseExpressions

/// What the interpreter knows while walking one run: the variables of expressions and, for a warm
/// resume, the steps it has already completed and how many journal entries each consumed.
struct ExecutionState: Sendable {
    /// A completed step remembered for a warm resume.
    struct CompletedStep: Sendable {
        var output: Value
        /// How many journal entries the step (with everything nested in it) consumed.
        var journalEntries: Int
    }

    var input: Value
    var run: Value
    var environment: Value
    var steps = ValueMap()
    var error: Value?
    /// `item` and `index` inside a `for_each` iteration.
    var iteration: (item: Value, index: Int)?
    /// Completed steps by structural path (with indices), for a warm resume.
    var completed: [String: CompletedStep] = [:]

    /// The variables visible to expressions.
    var variables: [String: Value] {
        var variables: [String: Value] = ["input": input, "steps": .map(steps), "run": run, "env": environment]
        if let error { variables["error"] = error }
        if let iteration {
            variables["item"] = iteration.item
            variables["index"] = .int(Int64(iteration.index))
        }
        return variables
    }
}
