/// Bounds on one evaluation, so that no expression can hang a runner or exhaust its memory.
public struct EvaluationLimits: Sendable, Equatable {
    /// The most evaluation steps (nodes visited, iterations, units of function work).
    public var maximumSteps: Int
    /// The most bytes of values the evaluation may create, counted approximately.
    public var maximumMemoryBytes: Int

    public init(maximumSteps: Int, maximumMemoryBytes: Int) {
        self.maximumSteps = maximumSteps
        self.maximumMemoryBytes = maximumMemoryBytes
    }

    /// One million steps and 16 MiB: far above any reasonable workflow expression.
    public static let standard = EvaluationLimits(maximumSteps: 1_000_000, maximumMemoryBytes: 16 << 20)
}
