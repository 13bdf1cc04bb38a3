/// A zero-width condition on the position between two scalars.
enum RegexAssertion: Sendable, Equatable {
    /// `\A`, or `^` without the `m` flag.
    case beginningOfText
    /// `\z`, or `$` without the `m` flag (RE2 `$` does not match before a final newline).
    case endOfText
    /// `^` with the `m` flag.
    case beginningOfLine
    /// `$` with the `m` flag.
    case endOfLine
    /// `\b`: ASCII word characters on exactly one side.
    case wordBoundary
    /// `\B`.
    case notWordBoundary

    /// Whether the assertion holds between `previous` and `next` (nil at the edges of the text).
    func holds(after previous: Unicode.Scalar?, before next: Unicode.Scalar?) -> Bool {
        switch self {
        case .beginningOfText:
            previous == nil
        case .endOfText:
            next == nil
        case .beginningOfLine:
            previous == nil || previous == "\n"
        case .endOfLine:
            next == nil || next == "\n"
        case .wordBoundary:
            Self.isWordScalar(previous) != Self.isWordScalar(next)
        case .notWordBoundary:
            Self.isWordScalar(previous) == Self.isWordScalar(next)
        }
    }

    /// RE2 word characters are ASCII only: `[0-9A-Za-z_]`.
    private static func isWordScalar(_ scalar: Unicode.Scalar?) -> Bool {
        guard let scalar, scalar.isASCII else { return false }
        switch scalar {
        case "0"..."9", "a"..."z", "A"..."Z", "_": return true
        default: return false
        }
    }
}
