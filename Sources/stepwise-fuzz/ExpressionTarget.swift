import StepwiseFuzzing

/// Parses each input as a CEL expression, type-checks it and evaluates it within the standard
/// evaluation limits, with variables shaped like a workflow's.
struct ExpressionTarget: FuzzTarget {
    let name = "expressions"
    let mutator = Mutator(tokens: Mutator.yamlAndExpressionTokens, maximumLength: 4 * 1024)
    let exercise = ExpressionExercise()

    func run(_ input: [UInt8]) -> String? {
        exercise.run(input)
        return nil
    }
}
