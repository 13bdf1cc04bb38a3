/// The parsed form of a pattern: a flat arena of `RegexNode`s linked by index.
///
/// All walks over the tree are iterative, so a pattern nested a thousand levels deep cannot
/// overflow a small thread stack while it is checked, compiled or freed.
struct RegexSyntaxTree: Sendable {
    private(set) var nodes: [RegexNode] = []

    /// Stores `node` and returns its index.
    mutating func add(_ node: RegexNode) -> Int {
        nodes.append(node)
        return nodes.count - 1
    }

    /// The index of a node matching `children` in sequence, collapsing the trivial cases.
    mutating func addSequence(_ children: [Int]) -> Int {
        switch children.count {
        case 0: add(.empty)
        case 1: children[0]
        default: add(.concatenation(children))
        }
    }

    subscript(index: Int) -> RegexNode {
        nodes[index]
    }

    /// RE2's rule that nested counted repetitions may not multiply beyond `limit` (so that
    /// `((a{100}){100}){100}` is refused before it is expanded). Mirrors Go's `repeatIsValid`.
    func repetitionProductFits(from root: Int, within limit: Int) -> Bool {
        var pending: [(node: Int, budget: Int)] = [(root, limit)]
        while let (index, budget) = pending.popLast() {
            switch nodes[index] {
            case .repetition(let body, let repetition):
                if repetition.maximum == 0 {
                    continue
                }
                let count = repetition.maximum ?? repetition.minimum
                guard count <= budget else { return false }
                pending.append((body, budget / max(count, 1)))
            case .concatenation(let children), .alternation(let children):
                pending += children.map { ($0, budget) }
            default:
                continue
            }
        }
        return true
    }

    /// True when every match of the node at `root` must begin at the start of the text, letting
    /// the matcher stop trying later start positions. False when unsure.
    func isAnchoredAtStart(_ root: Int) -> Bool {
        var pending = [root]
        while let index = pending.popLast() {
            switch nodes[index] {
            case .assertion(.beginningOfText):
                continue
            case .concatenation(let children):
                guard let first = children.first else { return false }
                pending.append(first)
            case .alternation(let children):
                pending += children
            case .repetition(let body, let repetition) where repetition.minimum > 0:
                pending.append(body)
            default:
                return false
            }
        }
        return true
    }
}
