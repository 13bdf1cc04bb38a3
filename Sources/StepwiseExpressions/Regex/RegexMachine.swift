/// Runs a `RegexProgram` over a text as a Pike VM.
///
/// All candidate threads advance together one scalar at a time, and a thread list never holds
/// the same instruction twice, so matching takes O(text length × program size) time whatever the
/// pattern — there is no backtracking to blow up.
struct RegexMachine {
    /// Whether to stop at the first match found or to find the leftmost-first match's extent.
    enum Goal {
        case anyMatch
        case leftmostFirst
    }

    let program: RegexProgram
    let text: [Unicode.Scalar]

    /// The scalar offsets of the match, or nil. For `.anyMatch` the range is whatever match was
    /// seen first and only its existence is meaningful.
    func run(_ goal: Goal) -> Range<Int>? {
        let capacity = program.instructions.count
        var current = RegexThreadList(capacity: capacity)
        var next = RegexThreadList(capacity: capacity)
        var pending: [Int] = []
        pending.reserveCapacity(capacity)
        var found: Range<Int>?
        for position in 0...text.count {
            // New attempts start at lower priority than surviving ones, and stop once a match is
            // known, because anything starting later is not leftmost.
            if found == nil, position == 0 || !program.isAnchoredAtStart {
                addThread(0, start: position, at: position, to: &current, pending: &pending)
            }
            if current.count == 0 {
                break
            }
            next.removeAll()
            if let match = step(at: position, current: current, next: &next, pending: &pending) {
                found = match
                if goal == .anyMatch {
                    return match
                }
            }
            swap(&current, &next)
        }
        return found
    }

    /// Advances every thread over the scalar at `position`, highest priority first. A thread that
    /// reaches `.match` ends the step: lower-priority threads cannot produce the preferred match.
    private func step(
        at position: Int, current: RegexThreadList, next: inout RegexThreadList, pending: inout [Int]
    ) -> Range<Int>? {
        let scalar = position < text.count ? text[position] : nil
        var orbit: [Unicode.Scalar]?
        for index in 0..<current.count {
            let counter = current.counter(at: index)
            let instruction = program.instructions[counter]
            if case .match = instruction {
                return current.start(at: index)..<position
            }
            guard let scalar, consumes(instruction, scalar, orbit: &orbit) else { continue }
            addThread(counter + 1, start: current.start(at: index), at: position + 1, to: &next, pending: &pending)
        }
        return nil
    }

    /// Whether `instruction` consumes `scalar`; `orbit` caches the scalar's case orbit for the step.
    private func consumes(_ instruction: RegexInstruction, _ scalar: Unicode.Scalar, orbit: inout [Unicode.Scalar]?) -> Bool {
        switch instruction {
        case .scalar(let expected):
            return scalar == expected
        case .foldedScalar(let index):
            return program.caseOrbits[index].contains(scalar)
        case .anyScalar:
            return true
        case .anyScalarExceptNewline:
            return scalar != "\n"
        case .characterClass(let index):
            let characterClass = program.classes[index]
            guard characterClass.isCaseInsensitive else {
                return characterClass.matches(scalar)
            }
            let members = orbit ?? RegexCaseFolding.orbit(of: scalar)
            orbit = members
            return characterClass.matches(anyOf: members)
        case .assertion, .split, .jump, .match:
            return false
        }
    }

    /// Adds `counter` and everything reachable from it without consuming input (the epsilon
    /// closure) to `list`, in priority order. Iterative, because program size bounds the depth
    /// of that walk and could overflow the call stack.
    private func addThread(
        _ counter: Int, start: Int, at position: Int, to list: inout RegexThreadList, pending: inout [Int]
    ) {
        pending.append(counter)
        while let counter = pending.popLast() {
            guard !list.contains(counter) else { continue }
            list.insert(counter, start: start)
            switch program.instructions[counter] {
            case .jump(let target):
                pending.append(target)
            case .split(let preferred, let alternative):
                // Pushed in reverse so the preferred branch is explored (and ranked) first.
                pending.append(alternative)
                pending.append(preferred)
            case .assertion(let assertion):
                let previous = position > 0 ? text[position - 1] : nil
                let following = position < text.count ? text[position] : nil
                if assertion.holds(after: previous, before: following) {
                    pending.append(counter + 1)
                }
            default:
                break
            }
        }
    }
}
