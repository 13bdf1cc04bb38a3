import LibFuzzerEntry
import StepwiseFuzzing

/// Built once: `invoke` may name these workflows, as in the examples folder.
private let exercise = WorkflowFileExercise(knownWorkflows: ["greeting", "approval", "image-processing"])

/// The executable's entry: libFuzzer calls back once per workflow file.
@_cdecl("fuzz_yaml_main")
func fuzzYAMLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    LibFuzzerEntry.run(argc, argv) { data, size in
        exercise.run(LibFuzzerEntry.input(data, size))
        return 0
    }
}
