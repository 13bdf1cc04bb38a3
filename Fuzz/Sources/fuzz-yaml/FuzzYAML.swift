import CLibFuzzer
import StepwiseFuzzing

/// The executable's entry (SwiftPM links `main` to `<module>_main`): hands over to libFuzzer's
/// driver, which calls back once per workflow file.
@_cdecl("fuzz_yaml_main")
func fuzzYAMLMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var arguments = argv
    return LLVMFuzzerRunDriver(&count, &arguments) { data, size in
        guard let data else { return 0 }
        WorkflowFileExercise(knownWorkflows: ["greeting", "approval", "image-processing"]).run(Array(UnsafeBufferPointer(start: data, count: size)))
        return 0
    }
}
