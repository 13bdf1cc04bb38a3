import Testing
import StepwiseExpressions

private func evaluate(_ source: String, _ variables: [String: Value] = [:]) throws -> Value {
    try Parser.parse(source).evaluate(variables)
}

/// The evaluation error of `source` (which must parse), or `nil` when it evaluates.
private func evaluationError(_ source: String, _ variables: [String: Value] = [:]) throws -> EvaluationError? {
    let expression = try Parser.parse(source)
    do {
        _ = try expression.evaluate(variables)
        return nil
    } catch {
        return error
    }
}


/// The variables of a workflow run after a `fetch` step and a `wait_for_event` step.
private let workflow: [String: Value] = {
    let text = """
        {
          "input": {"user_id": "u-42", "email": "ada@example.com", "name": "Ada", "tags": ["vip", "beta"],
                    "limit": 2, "created_at": "2024-05-01T09:30:00+02:00"},
          "steps": {
            "fetch": {
              "status": 200,
              "headers": {"content-type": "application/json; charset=utf-8"},
              "body": {"items": [{"id": "a", "price": 5, "qty": 1}, {"id": "b", "price": 12.5, "qty": 2},
                                 {"id": "c", "price": 30, "qty": 1}], "next": null}
            },
            "activation": {"received": true, "timed_out": false, "data": {"plan": "pro"}}
          }
        }
        """
    guard case .map(let map) = (try? Value(json: text)) ?? .null else { return [:] }
    var variables: [String: Value] = [:]
    for (key, value) in map.entries { variables[key.text] = value }
    return variables
}()

@Suite("Evaluator")
struct EvaluatorTests {
    // MARK: Variables

    @Test("variables are looked up by name, fields by key")
    func variableLookup() throws {
        #expect(try evaluate("input.name", workflow) == "Ada")
        #expect(try evaluate("input['email']", workflow) == "ada@example.com")
        #expect(try evaluate("steps.activation.data.plan", workflow) == "pro")
        #expect(workflow.count == 2)
    }

    @Test("unknown names and keys are errors at the node that failed", arguments: [
        ("x + 1", "undeclared reference to 'x'", 0),
        ("1 + (2 * y)", "undeclared reference to 'y'", 9),
        ("size(inptu.name)", "undeclared reference to 'inptu'", 5),
        ("input.nmae", "no such key: 'nmae'", 6),
        ("steps.fetch.body.items[5].id", "index 5 out of range for a list of 3 elements", 22),
        ("steps.fetch.headers['etag']", "no such key: 'etag'", 19),
        ("input.name.first", "cannot select field 'first' of a value of type string", 11),
        ("input.limit ? 1 : 2", "the condition of '?:' must be a bool", 12),
        ("dyn", "'dyn' is not a type value; use dyn(x) to convert a value", 0),
    ])
    func unknownNames(source: String, message: String, offset: Int) throws {
        let error = try #require(try evaluationError(source, workflow))
        #expect(error.message == message)
        #expect(error.offset == offset)
        #expect(error.kind == .invalidOperation)
    }

    @Test("type names are values")
    func typeNames() throws {
        #expect(try evaluate("type(1) == int && type(1u) == uint && type('') == string && type(null) == null_type") == true)
        #expect(try evaluate("type(input.tags) == list && type(input) == map && type(type(1)) == type", workflow) == true)
    }

    // MARK: Logic

    @Test("&& and || let a deciding side win over an error on either side", arguments: [
        ("(1 / 0 > 0) || true", true),
        ("true || (1 / 0 > 0)", true),
        ("(1 / 0 > 0) && false", false),
        ("false && (1 / 0 > 0)", false),
        ("missing.field || true", true),
        ("false && missing.field", false),
        ("'not a bool' || true", true),
        ("[0, 1].exists(x, 1 / x == 1)", true),
        ("[0, 1].all(x, 1 / x == 2)", false),
        ("true ? 1 == 1 : 1 / 0 == 1", true),
    ])
    func errorAbsorption(source: String, expected: Bool) throws {
        #expect(try evaluate(source) == .bool(expected))
    }

    @Test("when no side decides, the error is reported", arguments: [
        ("(1 / 0 > 0) || false", "division by zero"),
        ("false || (1 / 0 > 0)", "division by zero"),
        ("true && missing", "undeclared reference to 'missing'"),
        ("first || second", "undeclared reference to 'first'"),
        ("'a' || false", "no such overload: '||' is not defined for (string, bool)"),
        ("[0].all(x, 1 / x == 1)", "division by zero"),
        ("[1, 'a'].exists(x, x > 5)", "no such overload: '>' is not defined for (string, int)"),
    ])
    func errorsNotAbsorbed(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
    }

    // MARK: Arithmetic

    @Test("integer overflow and division by zero are errors, never wrapped values", arguments: [
        ("9223372036854775807 + 1", "integer overflow", 20),
        ("-9223372036854775808 - 1", "integer overflow", 21),
        ("4611686018427387904 * 2", "integer overflow", 20),
        ("-9223372036854775808 / -1", "integer overflow", 21),
        ("-(-9223372036854775808)", "integer overflow", 0),
        ("0u - 1u", "integer overflow", 3),
        ("18446744073709551615u + 1u", "integer overflow", 22),
        ("1 / 0", "division by zero", 2),
        ("1u / 0u", "division by zero", 3),
        ("7 % 0", "modulus by zero", 2),
        ("math.abs(-9223372036854775808)", "integer overflow in math.abs(-9223372036854775808)", 5),
    ])
    func arithmeticErrors(source: String, message: String, offset: Int) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
        #expect(error.offset == offset)
    }

    @Test("overflow from variables points at the operator")
    func overflowFromVariables() throws {
        let error = try #require(try evaluationError("n * n", ["n": .int(5_000_000_000)]))
        #expect(error.message == "integer overflow")
        #expect(error.offset == 2)
    }

    @Test("integer arithmetic is exact at the edges; doubles follow IEEE")
    func arithmetic() throws {
        #expect(identical(try evaluate("9223372036854775806 + 1"), .int(.max)))
        #expect(identical(try evaluate("-7 / 2"), .int(-3)))
        #expect(identical(try evaluate("-7 % 3"), .int(-1)))
        #expect(identical(try evaluate("18446744073709551614u + 1u"), .uint(.max)))
        #expect(identical(try evaluate("1.0 / 0.0"), .double(.infinity)))
        #expect(identical(try evaluate("0.1 + 0.2"), .double(0.1 + 0.2)))
    }

    @Test("mixing numeric types in arithmetic needs an explicit conversion", arguments: [
        ("1 + 1u", "no such overload: '+' is not defined for (int, uint)"),
        ("1 + 1.0", "no such overload: '+' is not defined for (int, double)"),
        ("steps.fetch.body.items[1].price * steps.fetch.body.items[1].qty",
         "no such overload: '*' is not defined for (double, int)"),
    ])
    func mixedArithmetic(source: String, message: String) throws {
        let error = try #require(try evaluationError(source, workflow))
        #expect(error.message == message)
    }

    @Test("an explicit conversion makes mixed arithmetic work")
    func explicitConversion() throws {
        #expect(identical(try evaluate("steps.fetch.body.items[1].price * double(steps.fetch.body.items[1].qty)", workflow), .double(25)))
        #expect(identical(try evaluate("int(steps.fetch.body.items[1].price) + 1", workflow), .int(13)))
        #expect(identical(try evaluate("1u + uint(steps.fetch.status)", workflow), .uint(201)))
    }

    // MARK: Equality and membership

    @Test("numbers compare by value across int, uint and double", arguments: [
        "1 == 1u", "1 == 1.0", "1u == 1.0", "-1 != 18446744073709551615u", "-1 < 0u", "2u > 1", "1 < 1.5",
        "[1, 2] == [1u, 2.0]", "{'a': 1} == {'a': 1.0}", "{1: 'x'} == {1u: 'x'}",
        "'1' != 1", "null != 0", "null == null", "double('NaN') != double('NaN')", "!(double('NaN') < 1)",
        "'é' != 'e\\u0301'", "b'abc' == bytes('abc')", "[1, [2, 3]] != [1, [2, 4]]",
    ])
    func heterogeneousEquality(source: String) throws {
        #expect(try evaluate(source) == true)
    }

    @Test("'in' tests list elements by equality and map keys", arguments: [
        ("2 in [1, 2, 3]", true),
        ("2.0 in [1, 2]", true),
        ("2u in [1, 2]", true),
        ("'b' in ['a']", false),
        ("'vip' in input.tags", true),
        ("'name' in input", true),
        ("'nope' in input", false),
        ("1 in {1u: 'x'}", true),
        ("1.0 in {1: 'x'}", true),
        ("1.5 in {1: 'x'}", false),
        ("[] in [[]]", true),
    ])
    func membership(source: String, expected: Bool) throws {
        #expect(try evaluate(source, workflow) == .bool(expected))
    }

    @Test("'in' needs a list or map on its right")
    func membershipError() throws {
        let error = try #require(try evaluationError("'x' in 'xyz'"))
        #expect(error.message == "no such overload: 'in' is not defined for (string, string)")
        #expect(error.offset == 4)
    }

    // MARK: Maps and lists

    @Test("map keys are found with int, uint or whole double keys", arguments: [
        ("{1: 'a'}[1u]", Value.string("a")),
        ("{1u: 'a'}[1]", Value.string("a")),
        ("{1: 'a'}[1.0]", Value.string("a")),
        ("{true: 'yes', 1: 'one'}[true]", Value.string("yes")),
        ("{-1: 'neg'}[-1.0]", Value.string("neg")),
        ("[10, 20, 30][1u]", Value.int(20)),
        ("[10, 20, 30][2.0]", Value.int(30)),
    ])
    func keyLookup(source: String, expected: Value) throws {
        #expect(identical(try evaluate(source), expected))
    }

    @Test("bad keys and indexes say what is wrong", arguments: [
        ("{1: 'a'}[2]", "no such key: 2"),
        ("{'a': 1}['b']", "no such key: 'b'"),
        ("{1: 'a'}[1.5]", "a map cannot have a key of type double"),
        ("[1][1.5]", "a list index must be an integer, got double 1.5"),
        ("[1][-1]", "index -1 out of range for a list of 1 elements"),
        ("{1.0: 'a'}", "a map key must be a bool, int, uint or string, got double"),
        ("{1: 'a', 1u: 'b'}", "duplicate map key 1"),
        ("'abc'[0]", "no such overload: indexing '[]' is not defined for (string, int)"),
    ])
    func keyErrors(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
    }

    // MARK: Optionals

    @Test("optional selection and indexing", arguments: [
        ("input.?name.orValue('anonymous')", Value.string("Ada")),
        ("input.?nickname.orValue('anonymous')", Value.string("anonymous")),
        ("input.?nickname.hasValue()", Value.bool(false)),
        ("steps.?fetch.body.status.orValue(0)", Value.int(0)),
        ("steps.?fetch.status.orValue(0)", Value.int(200)),
        ("steps.fetch.body.?cursor.?page.orValue(1)", Value.int(1)),
        ("input.tags[?0].orValue('none')", Value.string("vip")),
        ("input.tags[?5].orValue('none')", Value.string("none")),
        ("{'a': 1}[?'b'].orValue(2)", Value.int(2)),
        ("{1: 'x'}[?1.5].hasValue()", Value.bool(false)),
        ("optional.of(1).or(optional.of(2)).value()", Value.int(1)),
        ("optional.none().or(optional.of(2)).value()", Value.int(2)),
        ("optional.ofNonZeroValue('').hasValue()", Value.bool(false)),
        ("optional.of(5).optMap(v, v * 2).value()", Value.int(10)),
        ("optional.none().optMap(v, v * 2).hasValue()", Value.bool(false)),
        ("[?optional.none(), ?optional.of(1), 2]", Value.list([.int(1), .int(2)])),
        ("{?'a': optional.none(), 'b': 2}", ["b": 2] as Value),
        ("has(steps.fetch.body.next) && steps.fetch.body.next == null", Value.bool(true)),
        ("has(input.nickname)", Value.bool(false)),
    ])
    func optionals(source: String, expected: Value) throws {
        #expect(identical(try evaluate(source, workflow), expected))
    }

    @Test("an absent optional's value() is an error")
    func emptyOptionalValue() throws {
        let error = try #require(try evaluationError("input.?nickname.value()", workflow))
        #expect(error.message == "value() called on optional.none()")
        #expect(error.offset == 16)
    }

    // MARK: Strings

    @Test("string functions count code points, not bytes or graphemes", arguments: [
        "size('ÿ') == 1",
        "size('😀') == 1",
        "size('e\\u0301') == 2",
        "size(b'\\xc3\\xbf') == 2 && size(bytes('ÿ')) == 2",
        "'ta©o'.indexOf('o') == 3",
        "'ta©o'.charAt(2) == '©'",
        "'abc'.charAt(3) == ''",
        "'héllo wörld'.lastIndexOf('ö') == 7",
        "'héllo'.indexOf('l', 3) == 3",
        "'héllo'.substring(1, 3) == 'él'",
        "'😀ab'.reverse() == 'ba😀'",
        "'ÀÉ abc'.upperAscii() == 'ÀÉ ABC'",
        "'ÀÉ ABC'.lowerAscii() == 'ÀÉ abc'",
        "'\\u00a0 x\\t\\n'.trim() == 'x'",
        "'a,b,,c'.split(',') == ['a', 'b', '', 'c']",
        "'a,b,c'.split(',', 2) == ['a', 'b,c']",
        "'héllo'.split('') == ['h', 'é', 'l', 'l', 'o']",
        "['x', 'y'].join('-') == 'x-y'",
        "'hello'.replace('l', 'L', 1) == 'heLlo'",
        "'ab'.replace('', '-') == '-a-b-'",
        "'abc'.contains('') && 'abc'.startsWith('ab') && 'abc'.endsWith('bc')",
        "!'é'.startsWith('e')",
        "'a' < 'b' && 'Z' < 'a' && 'é' > 'z'",
        "strings.quote('say \"hi\"\\n') == '\"say \\\\\"hi\\\\\"\\\\n\"'",
        "strings.quote('a\\x01\\x7F é') == '\"a\\x01\\x7F é\"'",
    ])
    func stringFunctions(source: String) throws {
        #expect(try evaluate(source) == true)
    }

    @Test("string positions out of range are errors", arguments: [
        ("'abc'.substring(2, 5)", "substring(2, 5): end must be between 2 and 3"),
        ("'abc'.charAt(4)", "index 4 out of range for a string of length 3"),
        ("'abc'.indexOf('a', -1)", "index -1 out of range for a string of length 3"),
        ("[1, 'a'].join()", "join() needs a list of strings, found a int"),
    ])
    func stringErrors(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
    }

    @Test("format fills each clause from the list, in order", arguments: [
        ("'%s is %d years'.format(['Ada', 36])", "Ada is 36 years"),
        ("'%.2f'.format([3.14159])", "3.14"),
        ("'%f'.format([2])", "2.000000"),
        ("'%e'.format([1234.5])", "1.234500e+03"),
        ("'%x %X'.format([255, 'hi'])", "ff 6869"),
        ("'%o %b'.format([8, 5u])", "10 101"),
        ("'100%%'.format([])", "100%"),
        ("'%s'.format([[1, 'a', 2.5]])", "[1, a, 2.5]"),
        ("'%s'.format([{'b': 1, 'a': 2}])", "{a: 2, b: 1}"),
        ("'%s|%s|%s'.format([null, b'hi', 1e20])", "null|hi|1e+20"),
        ("'%s'.format([duration('90s')])", "90s"),
        ("'ünï %s'.format(['cödé'])", "ünï cödé"),
    ])
    func format(source: String, expected: String) throws {
        #expect(try evaluate(source) == .string(expected))
    }

    @Test("format reports wrong arguments", arguments: [
        ("'%d'.format(['x'])", "format: '%d' needs an integer, got string (argument 0)"),
        ("'%s %s'.format(['a'])", "format: index 1 out of range: only 1 argument(s) given"),
        ("'%q'.format([1])", "format: unrecognized formatting clause '%q'"),
        ("'50%'.format([])", "format: '%' at the end of the string"),
    ])
    func formatErrors(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
    }

    @Test("matches uses RE2 syntax over code points and finds a match anywhere", arguments: [
        ("'abc123'.matches('^[a-z]+[0-9]+$')", true),
        ("matches('xabcx', 'b')", true),
        ("'ABC'.matches('(?i)^abc$')", true),
        ("'ü'.matches('^.$')", true),
        ("'ada@example.com'.matches('^[^@]+@[^@]+\\\\.[a-z]+$')", true),
        ("'abc'.matches('^b')", false),
    ])
    func matches(source: String, expected: Bool) throws {
        #expect(try evaluate(source) == .bool(expected))
    }

    @Test("an invalid regular expression is an error naming the pattern")
    func invalidRegex() throws {
        let error = try #require(try evaluationError("'a'.matches('(')"))
        #expect(error.message.hasPrefix("invalid regular expression '(': "))
        #expect(error.offset == 4)
    }

    // MARK: Time

    @Test("timestamp accessors read the calendar in UTC or in a time zone", arguments: [
        ("timestamp('2023-01-01T12:00:00Z').getHours('America/New_York')", 7),
        ("timestamp('2023-07-01T12:00:00Z').getHours('America/New_York')", 8),
        ("timestamp('2023-01-01T12:00:00Z').getHours('+05:30')", 17),
        ("timestamp('2023-01-01T12:00:00Z').getMinutes('+05:30')", 30),
        ("timestamp('2023-12-31T23:30:00-02:00').getFullYear()", 2024),
        ("timestamp('2023-12-31T23:30:00-02:00').getFullYear('-02:00')", 2023),
        ("timestamp('2023-06-30T20:00:00Z').getDate('Australia/Sydney')", 1),
        ("timestamp('2023-06-30T20:00:00Z').getMonth('Australia/Sydney')", 6),
        ("timestamp('2024-03-01T00:00:00Z').getMonth()", 2),
        ("timestamp('2024-03-01T00:00:00Z').getDayOfMonth()", 0),
        ("timestamp('2024-03-01T00:00:00Z').getDate()", 1),
        ("timestamp('2024-03-01T00:00:00Z').getDayOfYear()", 60),
        ("timestamp('2024-03-01T00:00:00Z').getDayOfWeek()", 5),
        ("timestamp('2024-03-01T00:00:00.250Z').getMilliseconds()", 250),
        ("duration('1h30m').getMinutes()", 90),
        ("duration('1.5s').getMilliseconds()", 1500),
        ("int(timestamp('1970-01-02T00:00:00Z'))", 86_400),
        ("int(duration('1s'))", 1_000_000_000),
    ])
    func timeAccessors(source: String, expected: Int64) throws {
        #expect(identical(try evaluate(source), .int(expected)))
    }

    @Test("timestamp and duration arithmetic", arguments: [
        "timestamp('2024-01-31T00:00:00Z') + duration('24h') == timestamp('2024-02-01T00:00:00Z')",
        "timestamp('2024-01-01T00:00:00+01:00') == timestamp('2023-12-31T23:00:00Z')",
        "timestamp('2024-02-01T00:00:00Z') - timestamp('2024-01-01T00:00:00Z') == duration('744h')",
        "timestamp('2024-01-01T00:00:00Z') - duration('1m') < timestamp('2024-01-01T00:00:00Z')",
        "duration('1h30m') + duration('15m') == duration('105m')",
        "duration('1m') < duration('61s') && -duration('1s') == duration('-1s')",
        "string(duration('-1.5h')) == '-5400s'",
        "string(timestamp('2009-02-13T23:31:30.5+01:00')) == '2009-02-13T22:31:30.5Z'",
        "timestamp(0) == timestamp('1970-01-01T00:00:00Z')",
        "timestamp(input.created_at) + duration('72h') < timestamp('2024-05-05T00:00:00Z')",
    ])
    func timeArithmetic(source: String) throws {
        #expect(try evaluate(source, workflow) == true)
    }

    @Test("invalid times are errors", arguments: [
        ("timestamp('2023-01-01T12:00:00Z').getHours('Mars/Olympus')", "unknown time zone 'Mars/Olympus'"),
        ("timestamp('2023-13-01T00:00:00Z')", "invalid timestamp '2023-13-01T00:00:00Z': month 13 is not in 1...12"),
        ("timestamp('9999-12-31T23:59:59Z') + duration('1s')", "timestamp out of range"),
        ("duration('5x')", "invalid duration '5x': unknown unit 'x'"),
        ("duration('1h') * 2", "no such overload: '*' is not defined for (google.protobuf.Duration, int)"),
    ])
    func timeErrors(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
    }

    // MARK: Math

    @Test("math.greatest and math.least compare across numeric types and keep the winner's type", arguments: [
        ("math.greatest(1, 2u, 3.5)", Value.double(3.5)),
        ("math.greatest(5, 2u, 3.5)", Value.int(5)),
        ("math.greatest([1, -2.5, 3u])", Value.uint(3)),
        ("math.least(-1, 0u, 0.5)", Value.int(-1)),
        ("math.least(7u)", Value.uint(7)),
        ("math.greatest(steps.fetch.body.items.map(i, i.price))", Value.int(30)),
    ])
    func greatestAndLeast(source: String, expected: Value) throws {
        #expect(identical(try evaluate(source, workflow), expected))
    }

    @Test("math.greatest rejects what is not a number")
    func greatestErrors() throws {
        #expect(try evaluationError("math.greatest('a', 1)")?.message == "math.greatest() takes numbers, got string")
        #expect(try evaluationError("math.greatest([])")?.message == "math.greatest() needs at least one value")
    }

    @Test("math.sqrt takes ints, uints and doubles and answers a double; the rounding functions take doubles only", arguments: [
        ("math.sqrt(4)", Value.double(2)),
        ("math.sqrt(9u)", Value.double(3)),
        ("math.sqrt(2.25)", Value.double(1.5)),
    ])
    func squareRoot(source: String, expected: Value) throws {
        #expect(identical(try evaluate(source, workflow), expected))
    }

    @Test("math.sqrt of a negative number is NaN, and of a string no overload")
    func squareRootEdges() throws {
        guard case .double(let root) = try evaluate("math.sqrt(-1)", workflow) else { Issue.record("not a double"); return }
        #expect(root.isNaN)
        #expect(try evaluationError("math.sqrt('4')")?.message.hasPrefix("no such overload") == true)
        #expect(try evaluationError("math.ceil(4)")?.message.hasPrefix("no such overload") == true)
    }

    // MARK: Conversions

    @Test("conversions", arguments: [
        ("int('42')", Value.int(42)),
        ("int(3.9)", Value.int(3)),
        ("int(-3.9)", Value.int(-3)),
        ("int(42u)", Value.int(42)),
        ("uint(42)", Value.uint(42)),
        ("uint('18446744073709551615')", Value.uint(.max)),
        ("double('1.5e3')", Value.double(1500)),
        ("double(7)", Value.double(7)),
        ("string(1.5)", Value.string("1.5")),
        ("string(1e6)", Value.string("1e+06")),
        ("string(2.0)", Value.string("2")),
        ("string(-7)", Value.string("-7")),
        ("string(true)", Value.string("true")),
        ("string(b'caf\\xc3\\xa9')", Value.string("café")),
        ("bytes('é')", Value.bytes([0xC3, 0xA9])),
        ("bool('true') && !bool('f')", Value.bool(true)),
        ("dyn(1u)", Value.uint(1)),
    ])
    func conversions(source: String, expected: Value) throws {
        #expect(identical(try evaluate(source), expected))
    }

    @Test("conversion failures are errors, not wrapped or clamped values", arguments: [
        ("int('abc')", "int() cannot convert 'abc': not a decimal integer in range"),
        ("int(' 42')", "int() cannot convert ' 42': not a decimal integer in range"),
        ("int('9223372036854775808')", "int() cannot convert '9223372036854775808': not a decimal integer in range"),
        ("int(1e19)", "int() range error: 1e+19 does not fit in int"),
        ("int(18446744073709551615u)", "int() range error: 18446744073709551615 does not fit in int"),
        ("uint(-1)", "uint() range error: -1 is negative"),
        ("double('x')", "double() cannot convert 'x': not a number"),
        ("double(' 1')", "double() cannot convert ' 1': not a number"),
        ("bool('yes')", "bool() cannot convert 'yes'; use true/false, t/f or 1/0"),
        ("string(b'\\xff')", "string() cannot convert bytes that are not valid UTF-8"),
        ("int([1])", "no such overload: int(list)"),
        ("'a'.size(1)", "size() takes 0 arguments, got 1"),
        ("nosuch(1)", "undeclared function 'nosuch'"),
        ("startsWith('a', 'b')", "'startsWith' is a method: call it as value.startsWith(…)"),
        ("1.startsWith('a')", "no such overload: int.startsWith(string)"),
    ])
    func conversionErrors(source: String, message: String) throws {
        let error = try #require(try evaluationError(source))
        #expect(error.message == message)
        #expect(error.kind == .invalidOperation)
    }

    // MARK: Workflow expressions

    @Test("realistic workflow expressions over input and steps", arguments: [
        ("steps.fetch.body.items.filter(i, i.price > 10).map(i, i.id)", Value.list(["b", "c"])),
        ("steps.fetch.body.items.map(i, i.id).join(',')", Value.string("a,b,c")),
        ("steps.fetch.body.items.exists(i, i.price > 25)", Value.bool(true)),
        ("steps.fetch.body.items.all(i, i.qty >= 1)", Value.bool(true)),
        ("steps.fetch.body.items.exists_one(i, i.qty == 2)", Value.bool(true)),
        ("size(steps.fetch.body.items) > input.limit", Value.bool(true)),
        ("steps.fetch.body.items.filter(i, i.price < 20).map(i, double(i.price) * double(i.qty))",
         Value.list([.double(5), .double(25)])),
        ("steps.fetch.status == 200 && steps.fetch.headers['content-type'].startsWith('application/json')",
         Value.bool(true)),
        ("'vip' in input.tags ? 'priority' : 'normal'", Value.string("priority")),
        ("steps.activation.received && steps.activation.data.plan == 'pro'", Value.bool(true)),
        ("'Hello, ' + input.name + '!'", Value.string("Hello, Ada!")),
        ("input.email.split('@')[1]", Value.string("example.com")),
        ("{'user': input.user_id, 'count': size(steps.fetch.body.items)}", ["user": "u-42", "count": 3] as Value),
        ("steps.fetch.headers.transformMap(k, v, v.split(';')[0])", ["content-type": "application/json"] as Value),
        ("cel.bind(items, steps.fetch.body.items, items.size() == 3 && items[0].id == 'a')", Value.bool(true)),
        ("input.tags.map(t, t.upperAscii()).filter(t, t != 'BETA')", Value.list(["VIP"])),
        ("[1, 2, 3].map(x, [10, 20].map(y, x * y))", Value.list([[10, 20], [20, 40], [30, 60]])),
    ])
    func workflowExpressions(source: String, expected: Value) throws {
        let value = try evaluate(source, workflow)
        #expect(identical(value, expected), "got \(value.jsonText())")
    }

    @Test("a map built in an expression keeps its entry order when written as JSON")
    func mapOrder() throws {
        let value = try evaluate("{'user': input.user_id, 'count': size(steps.fetch.body.items), 'a': null}", workflow)
        #expect(value.jsonText() == #"{"user":"u-42","count":3,"a":null}"#)
    }

    @Test("macro variables shadow outer names and do not leak")
    func macroScopes() throws {
        #expect(try evaluate("[1, 2].map(input, input * 2)", workflow) == [2, 4])
        #expect(try evaluate("[[1], [2, 3]].map(x, x.map(x, x + 1))") == [[2], [3, 4]])
        let error = try #require(try evaluationError("[1].map(x, x) + [x]"))
        #expect(error.message == "undeclared reference to 'x'")
        #expect(error.offset == 17)
    }
}
