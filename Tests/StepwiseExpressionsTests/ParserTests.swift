import Testing
import StepwiseExpressions

/// The error `Parser.parse` throws for `source`, or `nil` when it parses.
private func parseError(_ source: String) -> ParseError? {
    do {
        _ = try Parser.parse(source)
        return nil
    } catch {
        return error
    }
}

/// The tree as a fully parenthesized prefix form, so tests see its shape, not the printer's choices.
private func tree(_ expression: CELExpression) -> String {
    switch expression.kind {
    case .literal(let literal):
        switch literal {
        case .null: return "null"
        case .bool(let b): return String(b)
        case .int(let i): return String(i)
        case .uint(let u): return "\(u)u"
        case .double(let d): return "\(d)d"
        case .string(let s): return "'\(s)'"
        case .bytes(let b): return "b\(b)"
        }
    case .identifier(let name): return name
    case .select(let operand, let field, let isOptional): return "(\(isOptional ? ".?" : ".") \(tree(operand)) \(field))"
    case .presenceTest(let operand, let field): return "(has \(tree(operand)) \(field))"
    case .index(let operand, let index, let isOptional): return "(\(isOptional ? "[?]" : "[]") \(tree(operand)) \(tree(index)))"
    case .call(let name, let arguments): return "(\(([name] + arguments.map(tree)).joined(separator: " ")))"
    case .method(let target, let name, let arguments):
        return "(.\(([name, tree(target)] + arguments.map(tree)).joined(separator: " ")))"
    case .unary(let op, let operand): return "(\(op.rawValue) \(tree(operand)))"
    case .binary(let op, let left, let right): return "(\(op.rawValue) \(tree(left)) \(tree(right)))"
    case .conditional(let condition, let then, let otherwise):
        return "(? \(tree(condition)) \(tree(then)) \(tree(otherwise)))"
    case .list(let elements): return "[\(elements.map { ($0.isOptional ? "?" : "") + tree($0.value) }.joined(separator: " "))]"
    case .map(let entries):
        return "{\(entries.map { ($0.isOptional ? "?" : "") + tree($0.key) + ": " + tree($0.value) }.joined(separator: ", "))}"
    case .comprehension(let c):
        return "(\(c.macro.rawValue) \(tree(c.range)) \(c.variables.joined(separator: " ")) \(c.arguments.map(tree).joined(separator: " ")))"
    case .bind(let name, let value, let body): return "(bind \(name) \(tree(value)) \(tree(body)))"
    case .optionalMap(let target, let variable, let body, let isFlat):
        return "(\(isFlat ? "optFlatMap" : "optMap") \(tree(target)) \(variable) \(tree(body)))"
    }
}

private func parsedTree(_ source: String) throws -> String {
    try tree(Parser.parse(source))
}

/// A source that must not parse, with what the person is told and where.
struct ParserErrorSample: Sendable, CustomTestStringConvertible {
    let source: String
    let message: String
    let offset: Int
    var testDescription: String { source }

    init(_ source: String, _ message: String, at offset: Int) {
        self.source = source
        self.message = message
        self.offset = offset
    }
}

@Suite("Parser")
struct ParserTests {
    // MARK: Precedence and associativity

    @Test("operators group by CEL's precedence and associativity", arguments: [
        ("1 + 2 * 3", "(+ 1 (* 2 3))"),
        ("(1 + 2) * 3", "(* (+ 1 2) 3)"),
        ("1 - 2 - 3", "(- (- 1 2) 3)"),
        ("1 - (2 - 3)", "(- 1 (- 2 3))"),
        ("8 / 4 / 2", "(/ (/ 8 4) 2)"),
        ("7 % 4 * 2", "(* (% 7 4) 2)"),
        ("a || b && c", "(|| a (&& b c))"),
        ("a && b || c", "(|| (&& a b) c)"),
        ("a || b || c", "(|| (|| a b) c)"),
        ("a == b && c != d", "(&& (== a b) (!= c d))"),
        ("1 < 2 == true", "(== (< 1 2) true)"),
        ("x in [1] == true", "(== (in x [1]) true)"),
        ("1 + 2 < 3 * 4", "(< (+ 1 2) (* 3 4))"),
        ("-a.b", "(- (. a b))"),
        ("!a || b", "(|| (! a) b)"),
        ("!!a", "(! (! a))"),
        ("--a", "(- (- a))"),
        ("-1", "-1"),
        ("- 1", "-1"),
        ("-(1)", "(- 1)"),
        ("2 - -1", "(- 2 -1)"),
        ("-2.5", "-2.5d"),
        ("a ? b : c ? d : e", "(? a b (? c d e))"),
        ("(a ? b : c) ? d : e", "(? (? a b c) d e)"),
        ("a || b ? c : d", "(? (|| a b) c d)"),
        ("a.b.c", "(. (. a b) c)"),
        ("a.b[0].c(1)", "(.c ([] (. a b) 0) 1)"),
        ("f(a, b + 1)[2]", "([] (f a (+ b 1)) 2)"),
        ("a.?b[?0]", "([?] (.? a b) 0)"),
        (".a.b", "(. a b)"),
        ("1 + // the rest of the line is a comment\n 2", "(+ 1 2)"),
    ])
    func precedence(source: String, expected: String) throws {
        #expect(try parsedTree(source) == expected)
    }

    @Test("the printed form has parentheses only where the grouping needs them", arguments: [
        ("1 + 2 * 3", "1 + 2 * 3"),
        ("(1 + 2) * 3", "(1 + 2) * 3"),
        ("(1 - 2) - 3", "1 - 2 - 3"),
        ("1 - (2 - 3)", "1 - (2 - 3)"),
        ("((a)) && (b || c)", "a && (b || c)"),
        ("a ? b : (c ? d : e)", "a ? b : c ? d : e"),
        ("(a ? b : c) ? d : e", "(a ? b : c) ? d : e"),
        ("-(1)", "-(1)"),
        ("!(a == b)", "!(a == b)"),
        ("(-a).b", "(-a).b"),
        ("{'a': [1, 2u, 3.5, b'\\xff']}", "{\"a\": [1, 2u, 3.5, b\"\\xFF\"]}"),
        ("a.`b-c`", "a.`b-c`"),
        ("[1].exists_one(x, x > 0)", "[1].exists_one(x, x > 0)"),
        ("[1].existsOne(x, x > 0)", "[1].existsOne(x, x > 0)"),
        ("'plain é'", "\"plain é\""),
        ("'a\\x7Fb\\x01\\\\'", "\"a\\x7Fb\\x01\\\\\""),
    ])
    func printedForm(source: String, printed: String) throws {
        #expect(try Parser.parse(source).description == printed)
    }

    @Test("the printed form parses back to the same tree", arguments: [
        "1 + 2 * 3 - -4 / (5 % 6)",
        "a.b[c].d(e, f) || !g && h in [1, 2u, 3.0]",
        "x ? (y ? 1 : 2) : z ? 3 : 4",
        "{'k': [1, ?a.?b], ?'o': optional.none()}",
        "items.filter(i, i.price > 10).map(i, i.id)",
        "m.transformMap(k, v, v > 0, v * 2)",
        "cel.bind(n, size(s), n * n)",
        "has(a.`x y`) && a.?`b-c`.orValue('') == 'q\\n\"\\u00e9'",
        "-(-(1)) + --a",
        "b'\\x00\\xff' + bytes('é')",
    ])
    func printRoundTrip(source: String) throws {
        let expression = try Parser.parse(source)
        let reparsed = try Parser.parse(expression.description)
        #expect(tree(reparsed) == tree(expression), "printed as \(expression.description)")
    }

    @Test("offsets point at each node's identifying token")
    func nodeOffsets() throws {
        let expression = try Parser.parse("a + b.c * f(x)")
        guard case .binary(.add, let a, let product) = expression.kind,
            case .binary(.multiply, let select, let call) = product.kind
        else {
            Issue.record("unexpected tree \(tree(expression))")
            return
        }
        #expect(expression.offset == 2)
        #expect(a.offset == 0)
        #expect(product.offset == 8)
        #expect(select.offset == 6)
        #expect(call.offset == 10)
    }

    // MARK: Literals

    @Test("literals decode to their values", arguments: [
        ("-9223372036854775808", "-9223372036854775808"),
        ("9223372036854775807", "9223372036854775807"),
        ("18446744073709551615u", "18446744073709551615u"),
        ("0xFFFFFFFFFFFFFFFFu", "18446744073709551615u"),
        ("0x7fffffffffffffff", "9223372036854775807"),
        ("-0x8000000000000000", "-9223372036854775808"),
        ("1e3", "1000.0d"),
        (".5", "0.5d"),
        ("'\\x41\\u00e9\\U0001F600\\101\\a\\?\\`'", "'Aé😀A\u{07}?`'"),
        ("r'\\n'", "'\\n'"),
        ("'''two\nlines'''", "'two\nlines'"),
        ("\"\"\"it's \"quoted\" \"\"\"", "'it's \"quoted\" '"),
        ("b'\\xff\\377é'", "b[255, 255, 195, 169]"),
    ])
    func literals(source: String, expected: String) throws {
        #expect(try parsedTree(source) == expected)
    }

    // MARK: Errors a person sees

    static let errors: [ParserErrorSample] = [
        // Unclosed brackets name what was opened and where.
        ParserErrorSample("1 + size(x", "expected ')' to close call of size() opened at column 9, found end of expression", at: 10),
        ParserErrorSample("f(1, 2", "expected ')' to close call of f() opened at column 2, found end of expression", at: 6),
        ParserErrorSample("a.g(1 2)", "expected ')' to close call of g() opened at column 4, found number '2'", at: 6),
        ParserErrorSample("[1, 2", "expected ']' to close list opened at column 1, found end of expression", at: 5),
        ParserErrorSample("x + {'a': 1", "expected '}' to close map opened at column 5, found end of expression", at: 11),
        ParserErrorSample("a[1", "expected ']' to close index opened at column 2, found end of expression", at: 3),
        ParserErrorSample("(1 + 2", "expected ')' to close parenthesis opened at column 1, found end of expression", at: 6),
        ParserErrorSample("{'a' 1}", "expected ':' after map key, found number '1'", at: 5),
        // Conditionals.
        ParserErrorSample(
            "a ? b", "expected ':' in conditional expression started by '?' at column 3, found end of expression", at: 5),
        ParserErrorSample("a ? b c", "expected ':' in conditional expression started by '?' at column 3, found 'c'", at: 6),
        // Typos from other languages.
        ParserErrorSample("a = b", "unexpected '=': use '==' to compare", at: 2),
        ParserErrorSample("a & b", "unexpected '&': use '&&' for logical and", at: 2),
        ParserErrorSample("a | b", "unexpected '|': use '||' for logical or", at: 2),
        ParserErrorSample("a # b", "unexpected character '#'", at: 2),
        // Offsets count Unicode scalars: 'é' written as e + combining accent is two.
        ParserErrorSample("'e\u{301}' = 'x'", "unexpected '=': use '==' to compare", at: 5),
        ParserErrorSample("'😀' = 'x'", "unexpected '=': use '==' to compare", at: 4),
        // Integer literals out of range.
        ParserErrorSample(
            "9223372036854775808", "integer literal 9223372036854775808 is out of range for int; add 'u' for uint", at: 0),
        ParserErrorSample(
            "x + 0x8000000000000000", "integer literal 0x8000000000000000 is out of range for int; add 'u' for uint", at: 4),
        ParserErrorSample("-9223372036854775809", "integer literal -9223372036854775809 is out of range for int", at: 0),
        ParserErrorSample("18446744073709551616u", "integer literal 18446744073709551616u is out of range for uint", at: 0),
        ParserErrorSample("12abc", "invalid number: unexpected 'a' after '12'", at: 2),
        ParserErrorSample("0x", "expected hex digits after '0x'", at: 0),
        ParserErrorSample("1e+", "expected digits in the exponent of a number", at: 1),
        // String and bytes literals.
        ParserErrorSample("'\\q'", "invalid escape sequence '\\q'", at: 1),
        ParserErrorSample("x + 'ab\\x4'", "expected 2 hex digits in escape sequence", at: 7),
        ParserErrorSample("'\\u12'", "expected 4 hex digits in escape sequence", at: 1),
        ParserErrorSample("'\\uD800'", "invalid code point U+D800 in escape", at: 1),
        ParserErrorSample("'\\12'", "expected three octal digits in escape sequence", at: 1),
        ParserErrorSample("b'\\u0041'", "'\\u' escapes are not allowed in bytes literals; use '\\x'", at: 2),
        ParserErrorSample("'ab\ncd'", "newline in string literal: use '\\n' or a triple-quoted literal", at: 3),
        ParserErrorSample("b\"ab\r\"", "newline in bytes literal: use '\\n' or a triple-quoted literal", at: 4),
        ParserErrorSample("x + 'abc", "unterminated string literal", at: 4),
        ParserErrorSample("'''abc''", "unterminated string literal", at: 0),
        // Quoted field names.
        ParserErrorSample("a.``", "empty quoted field name", at: 2),
        ParserErrorSample("a.`b", "unterminated quoted field name", at: 2),
        ParserErrorSample("a.`b!c`", "invalid character '!' in quoted field name", at: 4),
        ParserErrorSample("`a` + 1", "quoted name '`a`' can only follow '.'", at: 0),
        // Structure.
        ParserErrorSample("1 +", "unexpected end of expression", at: 3),
        ParserErrorSample("", "unexpected end of expression", at: 0),
        ParserErrorSample("1 2", "unexpected number '2' after the end of the expression", at: 2),
        ParserErrorSample("a,", "unexpected ',' after the end of the expression", at: 1),
        ParserErrorSample(")", "unexpected ')'", at: 0),
        ParserErrorSample("in", "unexpected 'in': it needs a value on its left", at: 0),
        ParserErrorSample("a.", "expected a field or method name after '.', found end of expression", at: 2),
        ParserErrorSample("a.?1", "expected a field or method name after '.?', found number '1'", at: 3),
        ParserErrorSample("a.?b(1)", "unexpected '(' after the end of the expression", at: 4),
        ParserErrorSample(". + 1", "expected an identifier after leading '.', found '+'", at: 2),
        // Macros.
        ParserErrorSample("has(a)", "has() takes one field selection, as in has(input.email)", at: 4),
        ParserErrorSample("has(a[0])", "has() takes one field selection, as in has(input.email)", at: 5),
        ParserErrorSample("has(a.?b)", "has() takes one field selection, as in has(input.email)", at: 7),
        ParserErrorSample("has()", "has() takes one field selection, as in has(input.email)", at: 0),
        ParserErrorSample("xs.all(1, true)", "argument 1 of all() must be a variable name, as in all(x, …)", at: 7),
        ParserErrorSample("m.all(k, k, true)", "all() needs two different variable names, got 'k' twice", at: 9),
        ParserErrorSample("cel.bind(x, 1)", "cel.bind() takes 3 arguments, got 2", at: 4),
        ParserErrorSample("cel.bind(x.y, 1, 2)", "argument 1 of cel.bind() must be a variable name, as in cel.bind(x, …)", at: 11),
        ParserErrorSample("o.optMap(1, 2)", "argument 1 of optMap() must be a variable name, as in optMap(x, …)", at: 9),
    ]

    @Test("syntax errors say what is wrong, at the exact offset", arguments: errors)
    func syntaxError(_ sample: ParserErrorSample) throws {
        let error = try #require(parseError(sample.source), "parsed: \(sample.source)")
        #expect(error.message == sample.message)
        #expect(error.offset == sample.offset)
    }

    static let reservedWords = [
        "as", "break", "const", "continue", "else", "for", "function", "if", "import", "let", "loop",
        "package", "namespace", "return", "var", "void", "while",
    ]

    @Test("reserved words cannot be identifiers", arguments: reservedWords)
    func reservedWord(word: String) throws {
        let error = try #require(parseError("x + \(word)"))
        #expect(error.message == "'\(word)' is a reserved word and cannot be used as an identifier")
        #expect(error.offset == 4)
    }

    @Test("words that merely contain a reserved word are ordinary identifiers")
    func notReserved() throws {
        #expect(try parsedTree("format + iffy + imports + input") == "(+ (+ (+ format iffy) imports) input)")
    }

    @Test("an error offset maps to the line and column a person looks at, with a caret under it")
    func errorLocation() throws {
        let source = "input.items\n\t.filter(i, i.price = 10)"
        let error = try #require(parseError(source))
        #expect(error.offset == 32)
        let location = StepwiseExpressions.SourceLocation(offset: error.offset, in: source)
        #expect(location.line == 2)
        #expect(location.column == 21)
        #expect(location.description == "2:21")
        // The tab is kept under the caret so it lines up in a terminal.
        #expect(location.snippet(of: source) == "  \t.filter(i, i.price = 10)\n  \t" + String(repeating: " ", count: 19) + "^")
    }

    // MARK: Limits

    @Test("nesting up to Parser.maximumDepth parses; one level more is an error, not a crash")
    func depthLimit() throws {
        let accepted = Parser.maximumDepth - 1
        let nested = String(repeating: "(", count: accepted) + "1" + String(repeating: ")", count: accepted)
        #expect(try parsedTree(nested) == "1")
        let tooDeep = String(repeating: "(", count: accepted + 1) + "1" + String(repeating: ")", count: accepted + 1)
        let error = try #require(parseError(tooDeep))
        #expect(error.message == "expression is nested more than \(Parser.maximumDepth) levels deep")
        #expect(error.offset == accepted + 1)
    }

    @Test("hostile nesting 10,000 deep is an error, not a stack overflow", arguments: [
        String(repeating: "(", count: 10_000),
        String(repeating: "(", count: 10_000) + "1" + String(repeating: ")", count: 10_000),
        String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000),
        String(repeating: "{1: ", count: 10_000) + "1" + String(repeating: "}", count: 10_000),
        String(repeating: "f(", count: 10_000) + String(repeating: ")", count: 10_000),
        String(repeating: "a[", count: 10_000) + "0" + String(repeating: "]", count: 10_000),
        String(repeating: "x.map(a, ", count: 10_000) + "a" + String(repeating: ")", count: 10_000),
        String(repeating: "true ? 1 : ", count: 9_000) + "2",
        "a" + String(repeating: ".b", count: 40_000),
        "a" + String(repeating: ".f()", count: 20_000),
        String(repeating: "!", count: 10_000) + "true",
        String(repeating: "-", count: 10_000) + "1",
    ])
    func hostileNesting(source: String) throws {
        let error = try #require(parseError(source))
        #expect(!error.message.isEmpty)
        #expect(error.offset >= 0 && error.offset <= source.unicodeScalars.count)
    }

    @Test("a long chain of one operator is bounded too")
    func longChains() throws {
        // 100,000 terms exceed the source length limit.
        let huge = Array(repeating: "1", count: 100_000).joined(separator: "+")
        let hugeError = try #require(parseError(huge))
        #expect(hugeError.message == "expression is longer than \(Parser.maximumLength) characters")
        // 50,000 terms fit in the length limit but not in the depth the evaluator can take.
        let long = Array(repeating: "1", count: 50_000).joined(separator: "+")
        let longError = try #require(parseError(long))
        #expect(longError.message == "expression is nested more than \(Parser.maximumDepth) levels deep (each operator of a chain counts one)")
        // The longest accepted chain parses, evaluates and prints.
        let accepted = Array(repeating: "1", count: Parser.maximumDepth).joined(separator: " + ")
        let expression = try Parser.parse(accepted)
        #expect(try expression.evaluate([:]) == .int(Int64(Parser.maximumDepth)))
        #expect(expression.description == accepted)
    }

    // MARK: Macros

    @Test("has() with a field selection is a presence test")
    func hasMacro() throws {
        #expect(try parsedTree("has(input.email)") == "(has input email)")
        #expect(try parsedTree("has(a.b.c)") == "(has (. a b) c)")
        #expect(try parsedTree("has(a.`x-y`)") == "(has a x-y)")
    }

    @Test("exists_one and existsOne are the same macro, printed as written", arguments: ["exists_one", "existsOne"])
    func existsOne(spelling: String) throws {
        let expression = try Parser.parse("[1, 2, 3].\(spelling)(x, x > 2)")
        guard case .comprehension(let comprehension) = expression.kind else {
            Issue.record("not a comprehension: \(tree(expression))")
            return
        }
        #expect(comprehension.macro == .existsOne)
        #expect(comprehension.spelling == spelling)
        #expect(comprehension.variables == ["x"])
        #expect(try expression.evaluate([:]) == .bool(true))
    }

    @Test("map with three arguments is filter then map")
    func mapWithFilter() throws {
        #expect(try parsedTree("xs.map(x, x > 1, x * 10)") == "(map xs x (> x 1) (* x 10))")
        #expect(try Parser.parse("[1, 2, 3].map(x, x > 1, x * 10)").evaluate([:]) == .list([.int(20), .int(30)]))
    }

    @Test("macros bind one or two variables", arguments: [
        ("xs.all(x, x > 0)", "(all xs x (> x 0))"),
        ("xs.exists(i, v, v == i)", "(exists xs i v (== v i))"),
        ("xs.filter(x, x != null)", "(filter xs x (!= x null))"),
        ("xs.transformList(i, v, v * i)", "(transformList xs i v (* v i))"),
        ("m.transformMap(k, v, v > 0, k)", "(transformMap m k v (> v 0) k)"),
        ("cel.bind(n, 2, n * n)", "(bind n 2 (* n n))"),
        ("o.optMap(v, v + 1)", "(optMap o v (+ v 1))"),
        ("o.optFlatMap(v, optional.of(v))", "(optFlatMap o v (.of optional v))"),
        // Not a macro form: an ordinary method call, checked when it runs.
        ("xs.all(x)", "(.all xs x)"),
    ])
    func macroForms(source: String, expected: String) throws {
        #expect(try parsedTree(source) == expected)
    }

    // MARK: Quoted field names

    @Test("backtick-quoted field names hold characters identifiers cannot", arguments: [
        ("a.`b-c`", "(. a b-c)"),
        ("a.`b.c`", "(. a b.c)"),
        ("a.`content/type ~x`", "(. a content/type ~x)"),
        ("a.?`b-c`", "(.? a b-c)"),
        ("a.`if`", "(. a if)"),
    ])
    func quotedFieldNames(source: String, expected: String) throws {
        #expect(try parsedTree(source) == expected)
    }

    @Test("a quoted field selects the map entry with that exact key")
    func quotedFieldEvaluates() throws {
        let headers: Value = ["content-type": "application/json", "x.y": 2]
        #expect(try Parser.parse("h.`content-type`").evaluate(["h": headers]) == "application/json")
        #expect(try Parser.parse("h.`x.y` + 1").evaluate(["h": headers]) == .int(3))
    }
}
