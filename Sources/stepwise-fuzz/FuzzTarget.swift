/// Something the fuzzer feeds inputs to: a parser, a checker, a server.
protocol FuzzTarget {
    /// The name used in messages and file names (`yaml`, `expressions`, `http`).
    var name: String { get }
    /// The tokens and length bound of this target's mutations.
    var mutator: Mutator { get }
    /// Runs one input. Returns `nil` when the target coped with it (any answer, any error), or a
    /// sentence saying what went wrong short of a crash (no answer from a server).
    mutating func run(_ input: [UInt8]) -> String?
}
