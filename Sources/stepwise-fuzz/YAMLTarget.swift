import StepwiseLanguage

/// Loads and fully checks each input as a workflow file, as `stepwise validate` does.
struct YAMLTarget: FuzzTarget {
    let name = "yaml"
    let mutator = Mutator(tokens: Mutator.yamlAndExpressionTokens, maximumLength: 64 * 1024)
    /// Names of workflows that `invoke` may refer to, as in a folder of example workflows.
    let knownWorkflows: Set<String>

    func run(_ input: [UInt8]) -> String? {
        let file = WorkflowFile(path: "fuzz.yaml", source: String(decoding: input, as: UTF8.self), knownWorkflows: knownWorkflows)
        for format in DiagnosticFormat.allCases { _ = format.render([file]) }
        return nil
    }
}
