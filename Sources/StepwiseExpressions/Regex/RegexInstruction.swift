/// One step of a compiled pattern, executed by `RegexMachine`.
///
/// Payloads are plain integers and scalars so instructions copy without reference counting in
/// the matcher's inner loop; sets live in side tables of `RegexProgram`.
enum RegexInstruction: Sendable, Equatable {
    /// Consume exactly this scalar.
    case scalar(Unicode.Scalar)
    /// Consume any scalar of the case orbit at this index of `RegexProgram.caseOrbits`.
    case foldedScalar(Int)
    /// Consume any scalar.
    case anyScalar
    /// Consume any scalar but `\n`.
    case anyScalarExceptNewline
    /// Consume a scalar of the class at this index of `RegexProgram.classes`.
    case characterClass(Int)
    /// Continue only where the assertion holds, consuming nothing.
    case assertion(RegexAssertion)
    /// Continue at both targets; `preferred` has priority for leftmost-first matching.
    case split(preferred: Int, alternative: Int)
    case jump(Int)
    /// The pattern has matched.
    case match
}
