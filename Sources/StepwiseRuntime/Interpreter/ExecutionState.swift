import StepwiseExpressions

/// What the interpreter knows while walking one run: the variables of expressions and, for a warm
/// resume, the steps it has already completed and how many journal entries each consumed.
struct ExecutionState: Sendable {
    /// A completed step remembered for a warm resume.
    struct CompletedStep: Sendable {
        var output: Value
        /// How many journal entries the step (with everything nested in it) consumed.
        var journalEntries: Int
        /// The estimated size of what remembering the step keeps alive.
        var estimatedBytes: Int
    }

    var input: Value
    var run: Value
    var environment: Value
    var steps = ValueMap()
    var error: Value?
    /// `item` and `index` inside a `for_each` iteration.
    var iteration: (item: Value, index: Int)?
    /// Completed steps by structural path (with indices), for a warm resume.
    private(set) var completed: [String: CompletedStep] = [:]
    /// Where a warm walk starts: the first top-level step not completed, and how many journal
    /// entries the steps before it consumed. A warm delivery starts there instead of walking past
    /// every completed step, so its cost does not grow with the run's length.
    var resume = (step: 0, entries: 0)
    /// An estimate of the memory this state keeps alive (see `Value.estimatedRetainedBytes`):
    /// the run's input, metadata and environment plus every remembered step. Kept up to date as
    /// steps complete, each output measured once, so a warm runner can weigh a state without
    /// walking it at every delivery.
    private(set) var estimatedBytes: Int

    init(input: Value, run: Value, environment: Value) {
        self.input = input
        self.run = run
        self.environment = environment
        estimatedBytes = input.estimatedRetainedBytes + run.estimatedRetainedBytes + environment.estimatedRetainedBytes
    }

    /// Remembers a completed step at `path`; `retained` are other values it left in scope (the
    /// step results of a `parallel` step's branches), counted with it.
    mutating func remember(_ output: Value, journalEntries: Int, at path: String, retained: some Sequence<Value>) {
        let bytes = retained.reduce(output.estimatedRetainedBytes) { $0 + $1.estimatedRetainedBytes }
        let step = CompletedStep(output: output, journalEntries: journalEntries, estimatedBytes: bytes)
        if let replaced = completed.updateValue(step, forKey: path) { estimatedBytes -= replaced.estimatedBytes }
        estimatedBytes += bytes
    }

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
