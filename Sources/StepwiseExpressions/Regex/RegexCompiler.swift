/// Lowers a `RegexSyntaxTree` to a `RegexProgram` (Thompson construction), refusing programs that
/// exceed the size limit before they can use much memory.
///
/// The tree is walked with an explicit task stack instead of recursion: patterns come from users,
/// and a deeply nested one must not be able to overflow a small thread stack.
struct RegexCompiler {
    /// Counted repetitions are expanded by copying, so this bounds both memory and match time.
    static let maximumInstructionCount = 20_000

    /// Work still to do, executed last-in first-out.
    private enum Task {
        /// Emits the node at this index of the tree.
        case emit(Int)
        /// Appends a split to be patched later and remembers its index.
        case openSplit
        /// Ends one non-final alternative: jump to the alternation's end (patched later) and
        /// point the alternative's split past that jump.
        case closeAlternative
        /// Points the jumps left by `count` alternatives at the current end.
        case closeAlternation(count: Int)
        /// Points `count` optional-copy splits either into their copy or past all copies.
        case closeOptionalCopies(count: Int, isGreedy: Bool)
        /// Closes `x*`: loops back to the split opened before the body.
        case closeStar(isGreedy: Bool)
        /// Remembers where a `x+` body starts.
        case markLoopStart
        /// Closes `x+`: a split back to the body's start.
        case closePlus(isGreedy: Bool)
    }

    private let tree: RegexSyntaxTree
    private var program = RegexProgram()
    private var tasks: [Task] = []
    /// Instruction indices awaiting a patch, in the order the open tasks pushed them. Every close
    /// task is scheduled after its open task and after everything nested between them, which push
    /// and pop in balance, so a close task always finds its own marks on top.
    private var marks: [Int] = []

    private init(tree: RegexSyntaxTree) {
        self.tree = tree
    }

    /// Compiles the node at `root`; throws "pattern too large" when the program would exceed the limit.
    static func compile(_ tree: RegexSyntaxTree, root: Int) throws(RegexSyntaxError) -> RegexProgram {
        var compiler = RegexCompiler(tree: tree)
        compiler.tasks = [.emit(root)]
        while let task = compiler.tasks.popLast() {
            try compiler.perform(task)
        }
        try compiler.append(.match)
        compiler.program.isAnchoredAtStart = tree.isAnchoredAtStart(root)
        return compiler.program
    }

    private var nextIndex: Int {
        program.instructions.count
    }

    @discardableResult
    private mutating func append(_ instruction: RegexInstruction) throws(RegexSyntaxError) -> Int {
        guard nextIndex < Self.maximumInstructionCount else {
            throw RegexSyntaxError(
                message: "pattern too large: the compiled program exceeds \(Self.maximumInstructionCount) instructions",
                offset: 0)
        }
        program.instructions.append(instruction)
        return nextIndex - 1
    }

    /// Schedules `sequence` to run in order, before anything already scheduled.
    private mutating func schedule(_ sequence: [Task]) {
        tasks.append(contentsOf: sequence.reversed())
    }

    private mutating func perform(_ task: Task) throws(RegexSyntaxError) {
        switch task {
        case .emit(let index):
            try emit(tree[index])
        case .openSplit:
            marks.append(try append(.jump(0)))
        case .closeAlternative:
            let split = marks.removeLast()
            marks.append(try append(.jump(0)))
            program.instructions[split] = .split(preferred: split + 1, alternative: nextIndex)
        case .closeAlternation(let count):
            for jump in marks.suffix(count) {
                program.instructions[jump] = .jump(nextIndex)
            }
            marks.removeLast(count)
        case .closeOptionalCopies(let count, let isGreedy):
            for split in marks.suffix(count) {
                program.instructions[split] = branch(continuing: split + 1, exiting: nextIndex, isGreedy: isGreedy)
            }
            marks.removeLast(count)
        case .closeStar(let isGreedy):
            let loop = marks.removeLast()
            try append(.jump(loop))
            program.instructions[loop] = branch(continuing: loop + 1, exiting: nextIndex, isGreedy: isGreedy)
        case .markLoopStart:
            marks.append(nextIndex)
        case .closePlus(let isGreedy):
            let start = marks.removeLast()
            let split = try append(.jump(0))
            program.instructions[split] = branch(continuing: start, exiting: split + 1, isGreedy: isGreedy)
        }
    }

    private mutating func emit(_ node: RegexNode) throws(RegexSyntaxError) {
        switch node {
        case .empty:
            break
        case .scalar(let scalar):
            try append(.scalar(scalar))
        case .foldedScalar(let orbit):
            program.caseOrbits.append(orbit)
            try append(.foldedScalar(program.caseOrbits.count - 1))
        case .anyScalar:
            try append(.anyScalar)
        case .anyScalarExceptNewline:
            try append(.anyScalarExceptNewline)
        case .characterClass(let characterClass):
            program.classes.append(characterClass)
            try append(.characterClass(program.classes.count - 1))
        case .assertion(let assertion):
            try append(.assertion(assertion))
        case .concatenation(let nodes):
            schedule(nodes.map(Task.emit))
        case .alternation(let nodes):
            scheduleAlternation(nodes)
        case .repetition(let body, let repetition):
            scheduleRepetition(of: body, repetition)
        }
    }

    /// `split L1, L2; L1: a; jump end; L2: split …; b; end:` — earlier alternatives have priority.
    private mutating func scheduleAlternation(_ alternatives: [Int]) {
        var sequence: [Task] = []
        for alternative in alternatives.dropLast() {
            sequence += [.openSplit, .emit(alternative), .closeAlternative]
        }
        if let last = alternatives.last {
            sequence.append(.emit(last))
        }
        sequence.append(.closeAlternation(count: max(alternatives.count - 1, 0)))
        schedule(sequence)
    }

    /// `x{n,m}` becomes n copies of x followed by m−n optional copies; `x{n,}` becomes n−1 copies
    /// followed by `x+` (or `x*` when n is 0). The parser's limits keep the copies bounded.
    private mutating func scheduleRepetition(of body: Int, _ repetition: RegexNode.Repetition) {
        let isGreedy = repetition.isGreedy
        guard let maximum = repetition.maximum else {
            var sequence = Array(repeating: Task.emit(body), count: max(repetition.minimum - 1, 0))
            if repetition.minimum == 0 {
                sequence += [.openSplit, .emit(body), .closeStar(isGreedy: isGreedy)]
            } else {
                sequence += [.markLoopStart, .emit(body), .closePlus(isGreedy: isGreedy)]
            }
            schedule(sequence)
            return
        }
        let optionalCount = max(maximum - repetition.minimum, 0)
        var sequence = Array(repeating: Task.emit(body), count: repetition.minimum)
        for _ in 0..<optionalCount {
            sequence += [.openSplit, .emit(body)]
        }
        sequence.append(.closeOptionalCopies(count: optionalCount, isGreedy: isGreedy))
        schedule(sequence)
    }

    private func branch(continuing: Int, exiting: Int, isGreedy: Bool) -> RegexInstruction {
        isGreedy
            ? .split(preferred: continuing, alternative: exiting)
            : .split(preferred: exiting, alternative: continuing)
    }
}
