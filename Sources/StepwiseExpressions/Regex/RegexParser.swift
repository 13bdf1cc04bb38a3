/// Turns RE2 syntax into a `RegexSyntaxTree`, rejecting what RE2 rejects.
///
/// Groups are tracked on an explicit stack rather than by recursion, so hostile nesting cannot
/// exhaust the call stack; the depth is still capped, as Go's parser caps it.
struct RegexParser {
    /// RE2's limit on `{n,m}` counts, alone or multiplied through nesting.
    static let maximumRepetitionCount = 1000
    /// Deepest group nesting accepted.
    static let maximumNestingDepth = 1000

    /// The flags that `(?imsU)` toggles.
    struct Flags {
        var isCaseInsensitive = false
        var isMultiline = false
        var dotMatchesNewline = false
        var isUngreedy = false
    }

    /// A group whose `)` has not been seen yet; the root frame stands for the whole pattern.
    struct Frame {
        /// Node indices of the alternatives already closed by `|`.
        var alternatives: [Int] = []
        /// Node indices of the atoms since the last `|`.
        var sequence: [Int] = []
        let openingOffset: Int
        /// Flags in force outside the group, restored when it closes.
        let outerFlags: Flags

        func finish(in tree: inout RegexSyntaxTree) -> Int {
            let last = tree.addSequence(sequence)
            return alternatives.isEmpty ? last : tree.add(.alternation(alternatives + [last]))
        }
    }

    let pattern: [Unicode.Scalar]
    var tree = RegexSyntaxTree()
    var position = 0
    var flags = Flags()
    var frames: [Frame]
    var groupNames: Set<String> = []
    /// Offset of the quantifier just applied, while nothing else has followed it (for `a**`).
    var previousRepetitionOffset: Int?
    /// Offsets of every `}` and every `:]`, so searches for them stay linear over the whole parse.
    let closingBraceOffsets: [Int]
    let posixTerminatorOffsets: [Int]

    /// Parses `pattern` into a tree and the index of its root, or throws the first syntax error.
    static func parse(_ pattern: String) throws(RegexSyntaxError) -> (tree: RegexSyntaxTree, root: Int) {
        var parser = RegexParser(pattern: Array(pattern.unicodeScalars))
        let root = try parser.parseAll()
        return (parser.tree, root)
    }

    private init(pattern: [Unicode.Scalar]) {
        self.pattern = pattern
        frames = [Frame(openingOffset: 0, outerFlags: Flags())]
        closingBraceOffsets = pattern.indices.filter { pattern[$0] == "}" }
        posixTerminatorOffsets = pattern.indices.dropLast().filter { pattern[$0] == ":" && pattern[$0 + 1] == "]" }
    }

    private mutating func parseAll() throws(RegexSyntaxError) -> Int {
        while position < pattern.count {
            try parseToken()
        }
        guard frames.count == 1 else {
            let opening = frames[frames.count - 1].openingOffset
            throw RegexSyntaxError(message: "missing closing ')' for group opened at offset \(opening)", offset: opening)
        }
        return frames[0].finish(in: &tree)
    }

    private mutating func parseToken() throws(RegexSyntaxError) {
        switch pattern[position] {
        case "(": try parseGroupOpening()
        case ")": try parseGroupClosing()
        case "|": parseAlternation()
        case "*", "+", "?": try parseQuantifier()
        case "{": try parseBraceOrLiteral()
        case "[": try parseBracketExpression()
        case "\\": try parseEscape()
        case ".":
            position += 1
            append(flags.dotMatchesNewline ? .anyScalar : .anyScalarExceptNewline)
        case "^":
            position += 1
            append(.assertion(flags.isMultiline ? .beginningOfLine : .beginningOfText))
        case "$":
            position += 1
            append(.assertion(flags.isMultiline ? .endOfLine : .endOfText))
        case let scalar:
            position += 1
            appendLiteral(scalar)
        }
    }

    // MARK: - Building the tree

    /// The scalar `offset` places ahead of the current position, if the pattern is that long.
    func peek(_ offset: Int = 0) -> Unicode.Scalar? {
        let index = position + offset
        return index < pattern.count ? pattern[index] : nil
    }

    /// The pattern text in `range`, for error messages.
    func text(_ range: Range<Int>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: pattern[range.clamped(to: pattern.indices)])
        return String(view)
    }

    mutating func append(_ node: RegexNode) {
        appendIndex(tree.add(node))
    }

    /// Adds the already stored node at `index` as the next atom of the current group.
    mutating func appendIndex(_ index: Int) {
        frames[frames.count - 1].sequence.append(index)
        previousRepetitionOffset = nil
    }

    mutating func appendLiteral(_ scalar: Unicode.Scalar) {
        guard flags.isCaseInsensitive else {
            append(.scalar(scalar))
            return
        }
        let orbit = RegexCaseFolding.orbit(of: scalar)
        append(orbit.count > 1 ? .foldedScalar(orbit) : .scalar(scalar))
    }

    // MARK: - Groups and alternation

    private mutating func parseGroupOpening() throws(RegexSyntaxError) {
        let opening = position
        position += 1
        if peek() == "?" {
            position += 1
            try parseExtendedGroup(openedAt: opening)
        } else {
            try pushFrame(openedAt: opening)
        }
    }

    private mutating func pushFrame(openedAt opening: Int) throws(RegexSyntaxError) {
        guard frames.count <= Self.maximumNestingDepth else {
            throw RegexSyntaxError(
                message: "groups nest deeper than the maximum of \(Self.maximumNestingDepth)", offset: opening)
        }
        frames.append(Frame(openingOffset: opening, outerFlags: flags))
        previousRepetitionOffset = nil
    }

    private mutating func parseGroupClosing() throws(RegexSyntaxError) {
        let closing = position
        position += 1
        guard frames.count > 1, let frame = frames.popLast() else {
            throw RegexSyntaxError(message: "unmatched ')'", offset: closing)
        }
        flags = frame.outerFlags
        appendIndex(frame.finish(in: &tree))
    }

    private mutating func parseAlternation() {
        position += 1
        let last = frames.count - 1
        frames[last].alternatives.append(tree.addSequence(frames[last].sequence))
        frames[last].sequence = []
        previousRepetitionOffset = nil
    }

    /// After `(?`: named groups, flag groups, and the Perl extensions RE2 refuses.
    private mutating func parseExtendedGroup(openedAt opening: Int) throws(RegexSyntaxError) {
        switch (peek(), peek(1)) {
        case ("P", "<"):
            position += 2
            try parseGroupName(openedAt: opening)
        case ("P", "="):
            throw RegexSyntaxError(message: "backreferences such as '(?P=name)' are not supported", offset: opening)
        case ("P", _):
            throw RegexSyntaxError(message: "invalid named group: expected '(?P<name>'", offset: opening)
        case ("<", "="), ("<", "!"):
            throw RegexSyntaxError(message: "lookbehind assertions '\(text(opening..<position + 2))' are not supported", offset: opening)
        case ("<", _):
            position += 1
            try parseGroupName(openedAt: opening)
        case ("=", _), ("!", _):
            throw RegexSyntaxError(message: "lookahead assertions '\(text(opening..<position + 1))' are not supported", offset: opening)
        case (">", _):
            throw RegexSyntaxError(message: "atomic groups '(?>' are not supported", offset: opening)
        case ("#", _):
            throw RegexSyntaxError(message: "comment groups '(?#' are not supported", offset: opening)
        default:
            try parseFlagGroup(openedAt: opening)
        }
    }

    /// After `(?P<` or `(?<`: a name of word characters, then `>`. Names are checked, then ignored.
    private mutating func parseGroupName(openedAt opening: Int) throws(RegexSyntaxError) {
        let nameStart = position
        while let scalar = peek(), scalar != ">" {
            position += 1
        }
        guard peek() == ">" else {
            throw RegexSyntaxError(message: "missing '>' after the name of the group opened at offset \(opening)", offset: opening)
        }
        let name = text(nameStart..<position)
        position += 1
        guard !name.isEmpty, name.unicodeScalars.allSatisfy(Self.isWordScalar) else {
            throw RegexSyntaxError(message: "invalid group name '\(name)': use letters, digits and '_'", offset: nameStart)
        }
        guard groupNames.insert(name).inserted else {
            throw RegexSyntaxError(message: "duplicate group name '\(name)'", offset: nameStart)
        }
        try pushFrame(openedAt: opening)
    }

    /// `(?flags)` changes the flags until the enclosing group ends; `(?flags:re)` scopes them to `re`.
    private mutating func parseFlagGroup(openedAt opening: Int) throws(RegexSyntaxError) {
        var newFlags = flags
        var isClearing = false
        var sawFlagAfterMinus = false
        while let scalar = peek() {
            position += 1
            switch scalar {
            case "i", "m", "s", "U":
                Self.set(scalar, to: !isClearing, in: &newFlags)
                sawFlagAfterMinus = true
            case "-" where !isClearing:
                isClearing = true
                sawFlagAfterMinus = false
            case ":", ")":
                guard !isClearing || sawFlagAfterMinus else {
                    throw RegexSyntaxError(message: "missing flag after '-' in '\(text(opening..<position))'", offset: position - 1)
                }
                if scalar == ":" {
                    try pushFrame(openedAt: opening)
                } else {
                    previousRepetitionOffset = nil
                }
                flags = newFlags
                return
            default:
                throw RegexSyntaxError(
                    message: "invalid flag '\(scalar)' in '\(text(opening..<position))': supported flags are i, m, s and U",
                    offset: position - 1)
            }
        }
        throw RegexSyntaxError(message: "missing closing ')' for group opened at offset \(opening)", offset: opening)
    }

    private static func set(_ flag: Unicode.Scalar, to value: Bool, in flags: inout Flags) {
        switch flag {
        case "i": flags.isCaseInsensitive = value
        case "m": flags.isMultiline = value
        case "s": flags.dotMatchesNewline = value
        default: flags.isUngreedy = value
        }
    }

    static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "0"..."9", "a"..."z", "A"..."Z", "_": true
        default: false
        }
    }
}
