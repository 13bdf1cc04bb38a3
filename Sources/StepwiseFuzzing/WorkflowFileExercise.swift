import StepwiseLanguage

/// What a fuzzer does with one workflow file: load it, check it fully and render every report
/// format, as `stepwise validate` does. Shared by `stepwise-fuzz` (seeded mutation) and the
/// coverage-guided libFuzzer build in `Fuzz/`.
public struct WorkflowFileExercise: Sendable {
    /// Names of workflows that `invoke` may refer to, as in a folder of examples.
    public let knownWorkflows: Set<String>

    /// An exercise in which `invoke` knows `knownWorkflows`.
    public init(knownWorkflows: Set<String>) {
        self.knownWorkflows = knownWorkflows
    }

    /// Runs `bytes` through the language; any outcome short of a crash or a hang is fine.
    public func run(_ bytes: [UInt8]) {
        let file = WorkflowFile(path: "fuzz.yaml", source: String(decoding: bytes, as: UTF8.self), knownWorkflows: knownWorkflows)
        for format in DiagnosticFormat.allCases { _ = format.render([file]) }
    }
}
