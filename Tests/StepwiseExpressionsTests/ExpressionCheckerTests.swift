import Testing
import StepwiseExpressions

/// The names a workflow expression sees, all of unknown (JSON) type.
private let workflowScope = CheckEnvironment(names: ["input", "steps", "run", "env"])

private func diagnostics(_ source: String, in environment: CheckEnvironment = workflowScope) throws -> [ExpressionDiagnostic] {
    try ExpressionChecker.check(Parser.parse(source), in: environment)
}

/// A source with exactly one problem: its kind, message, offset and hint.
struct CheckerSample: Sendable, CustomTestStringConvertible {
    let source: String
    let kind: ExpressionDiagnostic.Kind
    let message: String
    let offset: Int
    let hint: String?
    var testDescription: String { source }

    init(_ source: String, _ kind: ExpressionDiagnostic.Kind, _ message: String, at offset: Int, hint: String? = nil) {
        self.source = source
        self.kind = kind
        self.message = message
        self.offset = offset
        self.hint = hint
    }
}

@Suite("Expression checker")
struct ExpressionCheckerTests {
    static let problems: [CheckerSample] = [
        // Unknown names, with the closest declared name as a hint.
        CheckerSample("inptu.name", .unknownIdentifier, "unknown identifier 'inptu'", at: 0, hint: "did you mean 'input'?"),
        CheckerSample("size(stpes.fetch.body)", .unknownIdentifier, "unknown identifier 'stpes'", at: 5, hint: "did you mean 'steps'?"),
        CheckerSample("input.a + Input.b", .unknownIdentifier, "unknown identifier 'Input'", at: 10, hint: "did you mean 'input'?"),
        CheckerSample("item.id", .unknownIdentifier, "unknown identifier 'item'", at: 0, hint: "in scope: env, input, run, steps"),
        // Unknown functions and methods.
        CheckerSample("sise(input.name)", .unknownFunction, "unknown function 'sise'", at: 0, hint: "did you mean 'size'?"),
        CheckerSample("input.name.upperAsci()", .unknownFunction, "unknown method 'upperAsci'", at: 11, hint: "did you mean 'upperAscii'?"),
        CheckerSample("input.tags.joim(',')", .unknownFunction, "unknown method 'joim'", at: 11, hint: "did you mean 'join'?"),
        CheckerSample(
            "startsWith(input.name, 'A')", .unknownFunction, "unknown function 'startsWith'", at: 0,
            hint: "'startsWith' is a method: write value.startsWith(…)"),
        CheckerSample("input.name.frobnicate()", .unknownFunction, "unknown method 'frobnicate'", at: 11),
        // Wrong argument counts.
        CheckerSample("size(input, 1)", .wrongArgumentCount, "size() takes 1 argument, got 2", at: 0),
        CheckerSample("input.name.substring()", .wrongArgumentCount, "substring() takes 1 or 2 arguments, got 0", at: 11),
        CheckerSample("input.name.replace('a')", .wrongArgumentCount, "replace() takes 2 or 3 arguments, got 1", at: 11),
        CheckerSample("'a'.size(1)", .wrongArgumentCount, "size() takes 0 arguments, got 1", at: 4),
        CheckerSample("math.greatest()", .wrongArgumentCount, "math.greatest() takes at least 1 argument, got 0", at: 5),
        CheckerSample("input.name.format()", .wrongArgumentCount, "format() takes 1 argument, got 0", at: 11),
        // Operators and methods applied to types they do not accept.
        CheckerSample("1 + 'a'", .typeMismatch, "'+' is not defined for int and string", at: 2),
        CheckerSample(
            "1 + 2u", .typeMismatch, "'+' is not defined for int and uint", at: 2,
            hint: "convert one side explicitly, e.g. double(x) or int(x)"),
        CheckerSample("size(input.name) + 'x'", .typeMismatch, "'+' is not defined for int and string", at: 17),
        CheckerSample("duration('1h') * 2", .typeMismatch, "'*' is not defined for google.protobuf.Duration and int", at: 15),
        CheckerSample("'a' < 1", .typeMismatch, "'<' is not defined for string and int", at: 4),
        CheckerSample("!5", .typeMismatch, "'!' cannot be applied to a int", at: 0),
        CheckerSample("-'a'", .typeMismatch, "'-' cannot be applied to a string", at: 0),
        CheckerSample("5.startsWith('a')", .typeMismatch, "startsWith() is not defined on a int", at: 2, hint: "it applies to: string"),
        CheckerSample("true.size()", .typeMismatch, "size() is not defined on a bool", at: 5, hint: "it applies to: bytes, list, map, string"),
        CheckerSample("'abc'.name", .typeMismatch, "a value of type string has no field 'name'", at: 6),
        CheckerSample("has(1.a)", .typeMismatch, "a value of type int has no field 'a'", at: 0),
        CheckerSample("1[0]", .typeMismatch, "a value of type int cannot be indexed with '[]'", at: 1),
        CheckerSample("input.count > 0 ? 1 : 2 + 'x'", .typeMismatch, "'+' is not defined for int and string", at: 24),
        CheckerSample("1 ? 'a' : 'b'", .typeMismatch, "the condition of '?:' must be a bool, not int", at: 0),
        CheckerSample("input.ok && 'yes'", .typeMismatch, "the right operand of '&&' must be a bool, not string", at: 9),
        CheckerSample("'x' in 'xyz'", .typeMismatch, "'in' needs a list or map on its right, not string", at: 4),
        CheckerSample("{1.5: 'a'}", .typeMismatch, "a map key must be a bool, int, uint or string, not double", at: 1),
        CheckerSample("5.all(x, x > 0)", .typeMismatch, "all() needs a list or a map, not a int", at: 0),
        CheckerSample("cel.bind(name, 'a', name + 1)", .typeMismatch, "'+' is not defined for string and int", at: 25),
        CheckerSample("1.optMap(v, v)", .typeMismatch, "the receiver of optMap()/optFlatMap() must be a optional_type, not int", at: 0),
        // Constant arguments that fail on every run.
        CheckerSample("duration('5x')", .typeMismatch, "invalid duration '5x': unknown unit 'x'", at: 0),
        CheckerSample(
            "timestamp('2023-13-01T00:00:00Z')", .typeMismatch,
            "invalid timestamp '2023-13-01T00:00:00Z': month 13 is not in 1...12", at: 0),
        CheckerSample("timestamp(253402300800)", .typeMismatch, "timestamp out of range", at: 0),
    ]

    @Test("each problem is reported once, with its kind, message, position and hint", arguments: problems)
    func problem(_ sample: CheckerSample) throws {
        let found = try diagnostics(sample.source)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].kind == sample.kind)
        #expect(found[0].message == sample.message)
        #expect(found[0].offset == sample.offset)
        #expect(found[0].hint == sample.hint)
    }

    @Test("an invalid constant regular expression is reported, whoever calls matches()", arguments: [
        ("'a'.matches('(')", 4),
        ("matches('a', '(')", 0),
        ("input.name.matches('[a-')", 11),
        ("matches(input.name, 'a**')", 0),
    ])
    func invalidPattern(source: String, offset: Int) throws {
        let found = try diagnostics(source)
        try #require(found.count == 1, "\(found)")
        #expect(found[0].kind == .typeMismatch)
        #expect(found[0].message.hasPrefix("invalid regular expression '"))
        #expect(found[0].offset == offset)
    }

    @Test("a misspelled namespaced function is one unknown function, with a hint")
    func namespacedTypo() throws {
        let found = try diagnostics("math.gretest(1, 2)")
        try #require(found.count == 1, "\(found)")
        #expect(found[0].kind == .unknownFunction)
        #expect(found[0].message == "unknown function 'math.gretest'")
        #expect(found[0].hint == "did you mean 'math.greatest'?")
        #expect(found[0].offset == 5)
    }

    @Test("an empty environment gives no hint for an unknown name")
    func noHintWithoutNames() throws {
        let found = try diagnostics("x + 1", in: CheckEnvironment())
        try #require(found.count == 1)
        #expect(found[0].hint == nil)
        #expect(found[0].description == "unknown identifier 'x'")
    }

    @Test("every problem in an expression is reported, in source order")
    func severalProblems() throws {
        let found = try diagnostics("inptu.a + sise(1) + 'x'.upperAsci()")
        #expect(found.map(\.kind) == [.unknownIdentifier, .unknownFunction, .unknownFunction])
        #expect(found.map(\.offset) == [0, 10, 24])
        #expect(found[0].description == "unknown identifier 'inptu' (did you mean 'input'?)")
    }

    @Test("no false positives on values whose type is only known at run time", arguments: [
        "input.a + input.b",
        "input.a + 1",
        "input.a + 'x' + input.b",
        "steps.fetch.body.items[0].price * 2.0",
        "input.count > 2 ? input.name : 'anonymous'",
        "input.a || input.b && !input.c",
        "-input.delta",
        "input.tags.exists(t, t == 'vip')",
        "input.items.map(i, i.price * i.qty)",
        "input.items.filter(item, item.tags.exists(t, t.startsWith('x'))).map(item, item.id)",
        "input.m.transformMap(k, v, k + v)",
        "input.items.all(input, input.ok)",
        "[1, 2].map(x, x + 1)",
        "{'a': 1}.a + 1",
        "cel.bind(total, input.a + input.b, total * 2)",
        "cel.bind(n, 5, n + 1)",
        "input.?nickname.orValue('x') + 'y'",
        "optional.of(1).optMap(v, v + 1)",
        "math.greatest(input.a, 1)",
        "has(input.a) ? input.a : 'none'",
        "type(input.a) == int",
        "input.name.size() > 3 && size(input.tags) < 5",
        "dyn(1) + 1u",
        "timestamp(input.created) + duration('1h') < timestamp('2030-01-01T00:00:00Z')",
        "duration(input.delay)",
        "input.name.matches(input.pattern)",
        "'%s-%d'.format([input.a, input.b])",
        "int(input.n) + 1",
        "string(input.n) + '!'",
        "[1, 'a', null][input.i]",
        "input[input.key]",
        "input.tags[?0].orValue('')",
        "run.id + '-' + env.REGION",
    ])
    func noFalsePositives(source: String) throws {
        #expect(try diagnostics(source).isEmpty)
    }

    @Test("macro variables are in scope only inside the macro")
    func macroVariableScope() throws {
        let found = try diagnostics("input.items.map(i, i.id) + [i]")
        try #require(found.count == 1)
        #expect(found[0].kind == .unknownIdentifier)
        #expect(found[0].message == "unknown identifier 'i'")
        #expect(found[0].offset == 28)
    }

    @Test("declared types are used: a known string plus an int is reported")
    func declaredTypes() throws {
        let environment = CheckEnvironment(variables: ["name": .known(.string), "count": .known(.int), "data": .dyn])
        #expect(try diagnostics("name + count", in: environment).map(\.message) == ["'+' is not defined for string and int"])
        #expect(try diagnostics("name + string(count) + data", in: environment).isEmpty)
        #expect(try diagnostics("count.size()", in: environment).map(\.offset) == [6])
    }
}
