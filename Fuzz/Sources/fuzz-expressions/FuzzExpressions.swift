import LibFuzzerEntry
import StepwiseFuzzing

/// Built once: its variables are the same for every input.
private let exercise = ExpressionExercise()

/// The executable's entry: libFuzzer calls back once per expression.
@_cdecl("fuzz_expressions_main")
func fuzzExpressionsMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    LibFuzzerEntry.run(argc, argv) { data, size in
        exercise.run(LibFuzzerEntry.input(data, size))
        return 0
    }
}
