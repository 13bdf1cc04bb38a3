import Foundation
import Testing
@testable import StepwiseExpressions

/// Randomized properties of the parser, printer and evaluator. `swift test` runs a few thousand
/// cases; set `STEPWISE_PROPERTY_RUNS` (e.g. 100000) for the long run that CI does once.
@Suite("Expression properties")
struct PropertyTests {
    static let runs = ProcessInfo.processInfo.environment["STEPWISE_PROPERTY_RUNS"].flatMap(Int.init) ?? 3_000

    @Test("printing a random tree gives text that parses back to the same text")
    func printParseIsStable() throws {
        var generator = ExpressionGenerator(seed: 1)
        for _ in 0..<Self.runs {
            let printed = generator.expression().description
            let reparsed = try #require(try? Parser.parse(printed), "printed text does not parse: \(printed)")
            #expect(reparsed.description == printed)
            guard reparsed.description == printed else { return }
        }
    }

    @Test("evaluating random trees over random data returns a value or an error, never traps")
    func evaluationNeverTraps() {
        var generator = ExpressionGenerator(seed: 2)
        let limits = EvaluationLimits(maximumSteps: 20_000, maximumMemoryBytes: 1 << 20)
        var outcomes = (values: 0, errors: 0)
        for _ in 0..<Self.runs {
            let expression = generator.expression()
            let variables = Dictionary(uniqueKeysWithValues: ExpressionGenerator.variables.map { ($0, generator.value()) })
            do {
                _ = try expression.evaluate(variables, limits: limits)
                outcomes.values += 1
            } catch {
                outcomes.errors += 1
                #expect(!error.message.isEmpty)
            }
            _ = ExpressionChecker.check(expression, in: CheckEnvironment(names: ExpressionGenerator.variables))
        }
        // Both outcomes occur: the generator exercises real evaluation, not only early failures.
        #expect(outcomes.values > Self.runs / 20)
        #expect(outcomes.errors > Self.runs / 20)
    }

    @Test("mutated source text parses or fails with an offset inside the text, never traps")
    func parserNeverTraps() {
        var generator = ExpressionGenerator(seed: 3)
        var random = SeededGenerator(seed: 4)
        let alphabet = Array("()[]{}.,:?!-+*/%<>=&|'\"`\\ abcxyz019uUrRbBe_\n\u{00FF}😀".unicodeScalars)
        for _ in 0..<Self.runs {
            var scalars = Array(generator.expression().description.unicodeScalars)
            for _ in 0..<Int.random(in: 1...3, using: &random) {
                let position = Int.random(in: 0...scalars.count, using: &random)
                switch Int.random(in: 0..<3, using: &random) {
                case 0: scalars.insert(alphabet[Int.random(in: 0..<alphabet.count, using: &random)], at: position)
                case 1 where position < scalars.count: scalars.remove(at: position)
                default: scalars = Array(scalars[..<position]) + Array(scalars[position...]).reversed()
                }
            }
            let source = String(String.UnicodeScalarView(scalars))
            do {
                let parsed = try Parser.parse(source)
                let again = try? Parser.parse(parsed.description)
                #expect(again?.description == parsed.description, "unstable: \(source)")
            } catch {
                #expect(error.offset >= 0 && error.offset <= scalars.count, "offset \(error.offset) outside \(source)")
            }
        }
    }
}
