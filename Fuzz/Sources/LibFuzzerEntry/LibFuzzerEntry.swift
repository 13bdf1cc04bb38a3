import CLibFuzzer

/// What a fuzz target's executable needs from libFuzzer: hand the command line to its driver,
/// which calls `test` once per input. SwiftPM links `main` to `<module>_main`, so each target
/// exports that symbol and calls this.
public enum LibFuzzerEntry {
    /// Runs libFuzzer with the process's arguments; `test` gets each input's bytes.
    public static func run(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
        _ test: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt {
        var count = argc
        var arguments = argv
        return LLVMFuzzerRunDriver(&count, &arguments, test)
    }

    /// The bytes of one input, as libFuzzer passes them.
    public static func input(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
        guard let data else { return [] }
        return Array(UnsafeBufferPointer(start: data, count: size))
    }
}
