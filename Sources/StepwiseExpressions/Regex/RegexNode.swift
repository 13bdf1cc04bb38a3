/// The parsed form of a pattern.
///
/// Groups leave no trace in the tree: only whether (and where) the whole pattern matches is
/// reported, so captures need not be tracked.
indirect enum RegexNode: Sendable {
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
    case concatenation([RegexNode])
    case alternation([RegexNode])
    case repetition(RegexNode, Repetition)

    /// Builds the sequence of `nodes`, collapsing the trivial cases.
    static func sequence(_ nodes: [RegexNode]) -> RegexNode {
        switch nodes.count {
        case 0: .empty
        case 1: nodes[0]
        default: .concatenation(nodes)
        }
    }

    /// RE2's rule that nested counted repetitions may not multiply beyond `limit` (so that
    /// `((a{100}){100}){100}` is refused before it is expanded). Mirrors Go's `repeatIsValid`;
    /// iterative so that deep trees cannot overflow the stack.
    func repetitionProductFits(within limit: Int) -> Bool {
        var pending: [(node: RegexNode, budget: Int)] = [(self, limit)]
        while let (node, budget) = pending.popLast() {
            switch node {
            case .repetition(let body, let repetition):
                if repetition.maximum == 0 {
                    continue
                }
                let count = repetition.maximum ?? repetition.minimum
                guard count <= budget else { return false }
                pending.append((body, budget / max(count, 1)))
            case .concatenation(let nodes), .alternation(let nodes):
                pending += nodes.map { ($0, budget) }
            default:
                continue
            }
        }
        return true
    }

    /// True when every match must begin at the start of the text, letting the matcher stop
    /// trying later start positions. False when unsure.
    var isAnchoredAtStart: Bool {
        var pending = [self]
        while let node = pending.popLast() {
            switch node {
            case .assertion(.beginningOfText):
                continue
            case .concatenation(let nodes):
                guard let first = nodes.first else { return false }
                pending.append(first)
            case .alternation(let nodes):
                pending += nodes
            case .repetition(let body, let repetition) where repetition.minimum > 0:
                pending.append(body)
            default:
                return false
            }
        }
        return true
    }
}
