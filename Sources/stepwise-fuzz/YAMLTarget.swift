import StepwiseFuzzing

/// Loads and fully checks each input as a workflow file, as `stepwise validate` does.
struct YAMLTarget: FuzzTarget {
    let name = "yaml"
    let mutator = Mutator(tokens: Mutator.yamlAndExpressionTokens, maximumLength: 64 * 1024)
    let exercise: WorkflowFileExercise

    func run(_ input: [UInt8]) -> String? {
        exercise.run(input)
        return nil
    }
}
