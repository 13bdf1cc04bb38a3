/// Which steps an expression may rely on at a point of the workflow: those certainly completed
/// on every path to it, and why the others are not.
struct StepVisibility {
    /// Steps that have completed on every path to this point.
    var completed: Set<String> = []
    /// Completed steps with an `if`, whose result is null when it was false.
    var skippable: Set<String> = []
    /// Steps that ran only on some paths (a switch case, a catch, a loop body): id → where.
    var conditional: [String: String] = [:]
    /// Steps in sibling parallel branches: id → branch name.
    var siblings: [String: String] = [:]
    /// `item` and `index` are in scope (inside `for_each`).
    var hasLoopVariables = false
    /// `error` is in scope (inside `catch` and `on_failure`).
    var hasError = false
    /// Steps may not be referenced at all here (flow-control keys evaluated before any step).
    var noSteps = false

    /// Marks steps as having run only on some paths.
    mutating func markConditional(_ ids: [String], because reason: String) {
        for id in ids where !completed.contains(id) { conditional[id] = reason }
    }
}
