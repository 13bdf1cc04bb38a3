/// A compiled RE2-syntax regular expression, matched in linear time.
///
/// Matching runs over Unicode scalars with a Pike VM, so it takes time proportional to the text
/// length times the pattern size and can never hang on hostile patterns or input.
public struct RegularExpression: Sendable {
    private let program: RegexProgram

    /// Compiles `pattern`; throws `RegexSyntaxError` naming the problem and its offset (in Unicode scalars).
    public init(_ pattern: String) throws(RegexSyntaxError) {
        let (tree, root) = try RegexParser.parse(pattern)
        program = try RegexCompiler.compile(tree, root: root)
    }

    /// RE2 partial-match semantics (Go's regexp.MatchString): true when any substring matches.
    public func containsMatch(in text: String) -> Bool {
        RegexMachine(program: program, text: Array(text.unicodeScalars)).run(.anyMatch) != nil
    }

    /// The leftmost match, preferring alternatives and repetition counts as Go's regexp does
    /// (leftmost-first), or nil when nothing matches.
    public func firstMatch(in text: String) -> Range<String.Index>? {
        let scalars = text.unicodeScalars
        guard let offsets = RegexMachine(program: program, text: Array(scalars)).run(.leftmostFirst) else {
            return nil
        }
        let lower = scalars.index(scalars.startIndex, offsetBy: offsets.lowerBound)
        let upper = scalars.index(lower, offsetBy: offsets.count)
        return lower..<upper
    }
}
