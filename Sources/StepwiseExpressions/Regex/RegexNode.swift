/// One node of a parsed pattern, stored in a `RegexSyntaxTree` and referring to its children by
/// index there.
///
/// Groups leave no trace: only whether (and where) the whole pattern matches is reported, so
/// captures need not be tracked. Children are indices rather than nested values so that neither
/// building nor freeing a deeply nested pattern recurses.
enum RegexNode: Sendable {
    /// How often a repeated node may occur, and which count the matcher tries first.
    struct Repetition: Sendable, Equatable {
        var minimum: Int
        /// nil when unbounded (`*`, `+`, `{n,}`).
        var maximum: Int?
        /// Greedy repetitions prefer more iterations; this only changes `firstMatch` ranges.
        var isGreedy: Bool
    }

    /// Matches the empty string.
    case empty
    /// Matches exactly this scalar.
    case scalar(Unicode.Scalar)
    /// Matches any scalar of this case orbit (a literal under the `i` flag).
    case foldedScalar([Unicode.Scalar])
    /// `.` with the `s` flag.
    case anyScalar
    /// `.` without the `s` flag.
    case anyScalarExceptNewline
    case characterClass(RegexCharacterClass)
    case assertion(RegexAssertion)
    /// The children, in order.
    case concatenation([Int])
    /// The children, in order of priority.
    case alternation([Int])
    /// The repeated child.
    case repetition(Int, Repetition)
}
