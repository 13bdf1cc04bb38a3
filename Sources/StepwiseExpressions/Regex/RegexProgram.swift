/// A compiled pattern: instructions for `RegexMachine` and the sets they refer to.
struct RegexProgram: Sendable {
    /// Execution starts at index 0 and ends in a single `.match`.
    var instructions: [RegexInstruction] = []
    var classes: [RegexCharacterClass] = []
    var caseOrbits: [[Unicode.Scalar]] = []
    /// Every match starts at offset 0, so later start positions need not be tried.
    var isAnchoredAtStart = false
}
