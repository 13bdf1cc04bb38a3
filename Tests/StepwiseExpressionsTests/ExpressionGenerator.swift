@testable import StepwiseExpressions

/// Builds random, grammatically valid expression trees for property tests: every node kind,
/// every library function name, and literals at the edges (`Int64.min`, `NaN`, empty strings).
struct ExpressionGenerator {
    var random: SeededGenerator
    let maximumDepth: Int

    static let variables = ["x", "y", "input", "steps"]
    private static let fields = ["a", "b", "name", "if", "items", "content-type", "x"]
    private static let macroNames: Set<String> = ["all", "exists", "exists_one", "existsOne", "map", "filter",
                                                   "transformList", "transformMap", "optMap", "optFlatMap", "bind"]
    private static let globals = FunctionLibrary.globals.keys.sorted().filter { !$0.hasPrefix("cel.") }
    private static let methods = FunctionLibrary.methods.keys.sorted().filter { !macroNames.contains($0) }

    init(seed: UInt64, maximumDepth: Int = 5) {
        random = SeededGenerator(seed: seed)
        self.maximumDepth = maximumDepth
    }

    private mutating func pick<T>(_ choices: [T]) -> T {
        choices[Int.random(in: 0..<choices.count, using: &random)]
    }

    private mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }

    mutating func literal() -> Literal {
        switch Int.random(in: 0..<7, using: &random) {
        case 0: return .null
        case 1: return .bool(chance(50))
        case 2: return .int(pick([0, 1, -1, 2, 10, Int64.max, Int64.min, Int64.random(in: -1000...1000, using: &random)]))
        case 3: return .uint(pick([0, 1, 2, UInt64.max, UInt64.random(in: 0...1000, using: &random)]))
        case 4: return .double(pick([0, -0.0, 1.5, -2.25, 1e300, 1e-300, .nan, .infinity, 3.0]))
        case 5: return .string(pick(["", "a", "hello world", "ÿ©αT", "🐱", "%s %d", "a\nb", "'\"\\", "2023-01-01T00:00:00Z", "1h30m"]))
        default: return .bytes(pick([[], [0], [0xFF, 0x00], Array("abc".utf8)]))
        }
    }

    mutating func expression(depth: Int = 0) -> CELExpression {
        guard depth < maximumDepth, chance(85) else { return leaf() }
        let next = depth + 1
        let kind: CELExpression.Kind
        switch Int.random(in: 0..<15, using: &random) {
        case 0: kind = .select(expression(depth: next), field: pick(Self.fields), isOptional: chance(20))
        case 1: kind = .presenceTest(expression(depth: next), field: pick(Self.fields))
        case 2: kind = .index(expression(depth: next), expression(depth: next), isOptional: chance(20))
        case 3: kind = .call(pick(Self.globals), arguments(depth: next))
        case 4: kind = .method(expression(depth: next), pick(Self.methods), arguments(depth: next))
        case 5: kind = .unary(chance(50) ? .not : .negate, expression(depth: next))
        case 6, 7: kind = .binary(pick(BinaryOperator.allCases), expression(depth: next), expression(depth: next))
        case 8: kind = .conditional(expression(depth: next), expression(depth: next), expression(depth: next))
        case 9: kind = .list((0..<Int.random(in: 0...3, using: &random)).map { _ in ListElement(expression(depth: next), isOptional: chance(15)) })
        case 10:
            kind = .map((0..<Int.random(in: 0...3, using: &random)).map { _ in
                MapEntry(key: expression(depth: next), value: expression(depth: next), isOptional: chance(15))
            })
        case 11, 12: kind = .comprehension(comprehension(depth: next))
        case 13: kind = .bind(pick(["v", "w"]), expression(depth: next), expression(depth: next))
        default: kind = .optionalMap(expression(depth: next), variable: "v", body: expression(depth: next), isFlat: chance(50))
        }
        return CELExpression(kind, at: 0)
    }

    private mutating func leaf() -> CELExpression {
        chance(50)
            ? CELExpression(.literal(literal()), at: 0)
            : CELExpression(.identifier(pick(Self.variables + ["v", "int", "string"])), at: 0)
    }

    private mutating func arguments(depth: Int) -> [CELExpression] {
        (0..<Int.random(in: 0...3, using: &random)).map { _ in expression(depth: depth) }
    }

    private mutating func comprehension(depth: Int) -> Comprehension {
        let macro = pick(Comprehension.Macro.allCases)
        let twoVariables = [.transformList, .transformMap].contains(macro) || ([.all, .exists, .existsOne].contains(macro) && chance(40))
        let filtered = [.map, .transformList, .transformMap].contains(macro) && chance(40)
        let argumentCount = filtered ? 2 : 1
        return Comprehension(
            macro: macro, spelling: macro.rawValue, range: expression(depth: depth),
            variables: twoVariables ? ["k", "v"] : ["v"],
            arguments: (0..<argumentCount).map { _ in expression(depth: depth) })
    }

    /// A random JSON-like value for the variables in scope.
    mutating func value(depth: Int = 0) -> Value {
        guard depth < 3, chance(60) else { return literal().value }
        if chance(50) { return .list((0..<Int.random(in: 0...3, using: &random)).map { _ in value(depth: depth + 1) }) }
        var map = ValueMap()
        for field in Self.fields where chance(40) { map[.string(field)] = value(depth: depth + 1) }
        return .map(map)
    }
}
