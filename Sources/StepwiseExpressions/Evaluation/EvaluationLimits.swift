/// Bounds on one evaluation, so that no expression can hang a runner or exhaust its memory.
public struct EvaluationLimits: Sendable, Equatable {
    /// The most evaluation steps (nodes visited, iterations, units of function work).
    public var maximumSteps: Int
    /// The most bytes of values the evaluation may create, counted approximately.
    public var maximumMemoryBytes: Int
    /// The largest result, written as JSON (`Value.isWritten(largerThan:)`). Memory counts a part
    /// shared by reference once, but every writer (JSON, a journal, a request body) writes it
    /// each time it is referenced, so a result that doubles by sharing is bounded here.
    public var maximumWrittenBytes: Int

    public init(maximumSteps: Int, maximumMemoryBytes: Int, maximumWrittenBytes: Int = 64 << 20) {
        self.maximumSteps = maximumSteps
        self.maximumMemoryBytes = maximumMemoryBytes
        self.maximumWrittenBytes = maximumWrittenBytes
    }

    /// One million steps, 16 MiB of memory and 64 MiB of written result: far above any reasonable
    /// workflow expression.
    public static let standard = EvaluationLimits(maximumSteps: 1_000_000, maximumMemoryBytes: 16 << 20)

    /// `maximumWrittenBytes` for messages: in MiB when it is a whole number of them.
    public var writtenBytesText: String {
        maximumWrittenBytes % (1 << 20) == 0 ? "\(maximumWrittenBytes >> 20) MiB" : "\(maximumWrittenBytes) bytes"
    }
}

extension EvaluationError {
    /// A value larger than `limits.maximumWrittenBytes` written as JSON.
    public static func tooLargeToWrite(_ limits: EvaluationLimits) -> EvaluationError {
        EvaluationError("the value is larger than \(limits.writtenBytesText) written as JSON", kind: .budgetExceeded)
    }
}
