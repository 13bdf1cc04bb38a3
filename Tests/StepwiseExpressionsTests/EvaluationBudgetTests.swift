import Testing
import StepwiseExpressions

/// The evaluation error of `source` (which must parse), or `nil` when it evaluates.
private func budgetFailure(
    _ source: String, limits: EvaluationLimits = .standard, _ variables: [String: Value] = [:]
) throws -> EvaluationError? {
    let expression = try Parser.parse(source)
    do {
        _ = try expression.evaluate(variables, limits: limits)
        return nil
    } catch {
        return error
    }
}

/// `[1, …, 10].map(a, [1, …, 10].map(b, … 0))`, `depth` levels deep: 10^depth results.
private func nestedMaps(depth: Int) -> String {
    let list = "[1,2,3,4,5,6,7,8,9,10]"
    var source = "0"
    for level in 0..<depth { source = "\(list).map(v\(level), \(source))" }
    return source
}

/// Ten replacements of one character by ten: 10^10 characters if nothing stopped it.
private let replaceBomb = "'x'" + String(repeating: ".replace('x', 'xxxxxxxxxx')", count: 10)

/// Ten joins of ten copies each: 10^11 characters if nothing stopped it.
private let joinBomb: String = {
    var source = "size(s10)"
    for level in stride(from: 10, through: 1, by: -1) {
        let previous = "s\(level - 1)"
        source = "cel.bind(s\(level), [\(Array(repeating: previous, count: 10).joined(separator: ", "))].join(''), \(source))"
    }
    return "cel.bind(s0, 'xxxxxxxxxx', \(source))"
}()

private let stepsMessage = "expression exceeded its budget of \(EvaluationLimits.standard.maximumSteps) evaluation steps"
private let memoryMessage = "expression exceeded its memory budget of \(EvaluationLimits.standard.maximumMemoryBytes) bytes"

@Suite("Evaluation budget")
struct EvaluationBudgetTests {
    @Test("ten nested maps over ten elements stop at the step budget, quickly")
    func nestedMapsExceedSteps() throws {
        let start = ContinuousClock.now
        let error = try #require(try budgetFailure(nestedMaps(depth: 10)))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message == stepsMessage)
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("the same nesting within the budget evaluates")
    func nestedMapsWithinBudget() throws {
        let value = try Parser.parse("size(\(nestedMaps(depth: 3)))").evaluate([:])
        #expect(value == .int(10))
    }

    @Test("a string-doubling attack through replace() hits the memory budget")
    func replaceBombExceedsMemory() throws {
        let start = ContinuousClock.now
        let error = try #require(try budgetFailure(replaceBomb + ".size()"))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message == memoryMessage)
        // Building the string was quadratic once: minutes before the budget was reached.
        #expect(ContinuousClock.now - start < .seconds(10))
    }

    @Test("a string-doubling attack through join() hits the memory budget")
    func joinBombExceedsMemory() throws {
        let error = try #require(try budgetFailure(joinBomb))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message == memoryMessage)
    }

    @Test("concatenating a string with itself hits the memory budget")
    func concatenationBomb() throws {
        var source = "s"
        for _ in 0..<30 { source = "cel.bind(s, s + s, \(source))" }
        let error = try #require(try budgetFailure(source, ["s": "0123456789abcdef"]))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message == memoryMessage)
    }

    @Test("custom limits are honoured, and name themselves in the message")
    func customLimits() throws {
        let source = "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10].map(x, x * 2)"
        #expect(try budgetFailure(source) == nil)
        let fewSteps = EvaluationLimits(maximumSteps: 20, maximumMemoryBytes: 1 << 20)
        let stepsError = try #require(try budgetFailure(source, limits: fewSteps))
        #expect(stepsError.kind == .budgetExceeded)
        #expect(stepsError.message == "expression exceeded its budget of 20 evaluation steps")

        let littleMemory = EvaluationLimits(maximumSteps: 1_000, maximumMemoryBytes: 64)
        #expect(try budgetFailure("'abc' + 'def'", limits: littleMemory) == nil)
        let memoryError = try #require(try budgetFailure("'abcdefghijklmnopqrstuvwxyz'.replace('', '--')", limits: littleMemory))
        #expect(memoryError.kind == .budgetExceeded)
        #expect(memoryError.message == "expression exceeded its memory budget of 64 bytes")
    }

    /// `levels` bindings that each make a list of the previous one twice: tiny in memory (each
    /// list holds the previous one by reference), `2^levels` copies of `leaf` once written.
    static func doubling(_ levels: Int, leaf: String, then body: String) -> String {
        var expression = body
        for level in stride(from: levels, to: 0, by: -1) { expression = "cel.bind(v\(level), [v\(level - 1), v\(level - 1)], \(expression))" }
        return "cel.bind(v0, \(leaf), \(expression))"
    }

    @Test("a value that doubles by sharing is bounded by its written size, escapes counted; walks of it by equality or 'in' cost steps; errors never print it")
    func sharedValues() throws {
        let written = try #require(try budgetFailure(Self.doubling(24, leaf: "'\(String(repeating: "x", count: 100))'", then: "v24")))
        #expect(written.kind == .budgetExceeded)
        #expect(written.message == "the value is larger than 64 MiB written as JSON")
        // 2^16 copies of 1,000 control characters: 65 MB as text, 393 MB once escaped.
        let escaped = try #require(try budgetFailure(Self.doubling(16, leaf: "'\(String(repeating: "\\x01", count: 1000))'", then: "v16")))
        #expect(escaped.message == "the value is larger than 64 MiB written as JSON", "\(escaped)")
        #expect(try budgetFailure("\(Self.doubling(20, leaf: "'x'", then: "v20"))[0]") == nil, "a small part of it is fine")
        for walk in ["v40 == [v39, v39]", "v40 != [v39, v39]", "v40 in [v40]"] {
            let error = try #require(try budgetFailure(Self.doubling(40, leaf: "'x'", then: walk)), "\(walk)")
            #expect(error.kind == .budgetExceeded, "\(walk): \(error)")
            #expect(error.message == stepsMessage)
        }
        let index = try budgetFailure(Self.doubling(40, leaf: "'x'", then: "[1][v40]"))
        #expect(index?.message == "a list index must be an integer, got list a large list")
        let format = try #require(try budgetFailure(Self.doubling(27, leaf: "'x'", then: "'%s'.format([v27])")))
        #expect(format.message == memoryMessage, "checked before the text is built (it crashed the process at 27 levels)")
    }

    @Test("the written size counts an integer's digits, and a comparison that ends at once costs nothing")
    func cheapChecks() throws {
        let zeros = Value.list(Array(repeating: .int(0), count: 1_000_000))
        let tight = EvaluationLimits(maximumSteps: 1_000, maximumMemoryBytes: 16 << 20, maximumWrittenBytes: 4 << 20)
        #expect(try budgetFailure("[input, 1]", limits: tight, ["input": zeros]) == nil, "2 MB of zeros as JSON")
        let lists = Value.list(Array(repeating: .list([]), count: 5_000))
        #expect(try budgetFailure("input != null && input != []", limits: tight, ["input": lists]) == nil)
        #expect(try budgetFailure("input == input", limits: tight, ["input": lists])?.kind == .budgetExceeded, "5,000 nodes walked")
    }

    @Test("the budget is per evaluation: the same expression can run again with a just-sufficient budget")
    func budgetPerEvaluation() throws {
        let expression = try Parser.parse("[1, 2, 3].map(x, x * x)")
        func limits(_ steps: Int) -> EvaluationLimits { EvaluationLimits(maximumSteps: steps, maximumMemoryBytes: 1 << 20) }
        let needed = try #require((1...1_000).first { steps in (try? expression.evaluate([:], limits: limits(steps))) != nil })
        for _ in 0..<3 {
            #expect(try expression.evaluate([:], limits: limits(needed)) == [1, 4, 9])
        }
        let error = try #require(try budgetFailure("[1, 2, 3].map(x, x * x)", limits: limits(needed - 1)))
        #expect(error.kind == .budgetExceeded)
    }

    @Test("with the standard limits, an exhausted budget on the left of '|| true' is reported")
    func budgetErrorBeforeOr() throws {
        let error = try #require(try budgetFailure("\(nestedMaps(depth: 10)) == [] || true"))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message == stepsMessage)
    }

    /// Small limits keep these fast; the standard limits behave the same (above).
    static let small = EvaluationLimits(maximumSteps: 20_000, maximumMemoryBytes: 256 << 10)

    @Test("budget errors escape the macros and operators that absorb ordinary errors", arguments: [
        "\(nestedMaps(depth: 10)) == [] || true",
        "\(nestedMaps(depth: 10)) == [] && false",
        "size(\(replaceBomb)) > 0 || true",
        "false || \(nestedMaps(depth: 10)) == []",
        "[1, 2].exists(i, \(nestedMaps(depth: 10)) == [])",
        "[1, 2].all(i, \(nestedMaps(depth: 10)) == [])",
        "[0, 1].exists(i, 1 / i == 1 && \(nestedMaps(depth: 10)) == [])",
        "optional.of(1).optMap(v, \(nestedMaps(depth: 10))).hasValue() || true",
    ])
    func budgetErrorsAreNotAbsorbed(source: String) throws {
        let error = try #require(try budgetFailure(source, limits: Self.small))
        #expect(error.kind == .budgetExceeded)
        #expect(error.message.hasPrefix("expression exceeded its "))
        #expect(error.message.contains("budget of 20000 evaluation steps") || error.message.contains("budget of 262144 bytes"))
    }

    @Test("a deciding left side still short-circuits an expensive right side", arguments: [
        ("true || \(nestedMaps(depth: 10)) == []", true),
        ("false && \(nestedMaps(depth: 10)) == []", false),
        ("false ? \(nestedMaps(depth: 10)) == [] : true", true),
        ("[1, 2].exists(i, i == 1 || \(nestedMaps(depth: 10)) == [])", true),
        ("has({'a': 1}.a) || size(\(replaceBomb)) > 0", true),
    ])
    func shortCircuitSkipsExpensiveSide(source: String, expected: Bool) throws {
        #expect(try Parser.parse(source).evaluate([:]) == .bool(expected))
    }

    @Test("ordinary errors are still absorbed next to a budget-respecting expression")
    func ordinaryErrorsStillAbsorbed() throws {
        #expect(try Parser.parse("1 / 0 == 1 || \(nestedMaps(depth: 2)) != []").evaluate([:]) == true)
        let error = try #require(try budgetFailure("1 / 0 == 1 || false"))
        #expect(error.kind == .invalidOperation)
    }
}
