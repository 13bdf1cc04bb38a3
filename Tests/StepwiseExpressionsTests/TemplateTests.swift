import Testing
import StepwiseExpressions

/// The error `Template(parsing:)` throws for `text`, or `nil` when it parses.
private func templateError(_ text: String) -> ParseError? {
    do {
        _ = try Template(parsing: text)
        return nil
    } catch {
        return error
    }
}

private func render(_ text: String, _ variables: [String: Value] = variables) throws -> Value {
    try Template(parsing: text).render(variables)
}

/// The rendering error of `text` (which must parse), or `nil` when it renders.
private func renderError(_ text: String) throws -> EvaluationError? {
    let template = try Template(parsing: text)
    do {
        _ = try template.render(variables)
        return nil
    } catch {
        return error
    }
}


private let variables: [String: Value] = [
    "input": ["name": "Ada", "count": 3, "tags": ["a", "b"], "price": 2.5],
]

@Suite("Templates")
struct TemplateTests {
    // MARK: Structure

    @Test("text without expressions is literal")
    func textOnly() throws {
        let template = try Template(parsing: "cost: $5 {braces} ${ not } {{ either }} $}")
        #expect(template.isLiteral)
        #expect(template.parts == [.text("cost: $5 {braces} ${ not } {{ either }} $}")])
        #expect(template.singleExpression == nil)
        #expect(identical(try template.render(variables), "cost: $5 {braces} ${ not } {{ either }} $}"))
        #expect(identical(try render(""), ""))
    }

    @Test("a template that is exactly one expression keeps the expression's type", arguments: [
        ("${{ 1 + 2 }}", Value.int(3)),
        ("${{ 3u }}", Value.uint(3)),
        ("${{ input.price }}", Value.double(2.5)),
        ("${{ input.count > 2 }}", Value.bool(true)),
        ("${{ null }}", Value.null),
        ("${{ input.tags }}", Value.list(["a", "b"])),
        ("${{ [1, 'a'] }}", Value.list([1, "a"])),
        ("${{ {'n': input.count} }}", ["n": 3] as Value),
        ("${{ input }}", ["name": "Ada", "count": 3, "tags": ["a", "b"], "price": 2.5] as Value),
        // Blank text around the only expression does not turn it into a string.
        ("  ${{ 42 }}  ", Value.int(42)),
        ("\n\t${{ 42 }}\n", Value.int(42)),
        ("${{42}}", Value.int(42)),
    ])
    func singleExpression(text: String, expected: Value) throws {
        let template = try Template(parsing: text)
        #expect(template.singleExpression != nil)
        #expect(template.parts.count == 1)
        #expect(identical(try template.render(variables), expected))
    }

    @Test("text mixed with expressions interpolates: strings verbatim, other values as JSON", arguments: [
        ("Hello ${{ input.name }}!", "Hello Ada!"),
        ("n=${{ input.count + 1 }}", "n=4"),
        ("${{ 42 }}!", "42!"),
        ("${{ 1.5 }} and ${{ 2.0 }} and ${{ true }} and ${{ null }}", "1.5 and 2.0 and true and null"),
        ("data: ${{ {'a': [1, 2], 'b': 'x'} }}", #"data: {"a":[1,2],"b":"x"}"#),
        ("tags=${{ input.tags }}", #"tags=["a","b"]"#),
        ("${{ 'quote \" and \\\\' }} kept", #"quote " and \ kept"#),
        ("${{ 'a' }}${{ 'b' }}", "ab"),
        ("${{ input.name }} ${{ input.name }}", "Ada Ada"),
    ])
    func interpolation(text: String, expected: String) throws {
        #expect(identical(try render(text), .string(expected)))
    }

    @Test("times, durations and bytes read in text without JSON's quotes", arguments: [
        ("due ${{ timestamp('2024-01-01T00:00:00Z') + duration('36h') }}", "due 2024-01-02T12:00:00Z"),
        ("wait ${{ duration('90m') }}", "wait 5400s"),
        ("raw ${{ b'hi' }}", "raw aGk="),
        ("type ${{ type(1) }}", "type int"),
        ("maybe ${{ optional.of('x') }} ${{ optional.none() }}", "maybe x null"),
        ("in a list they stay JSON: ${{ [duration('1s')] }}", #"in a list they stay JSON: ["1s"]"#),
    ])
    func interpolatedScalars(text: String, expected: String) throws {
        #expect(identical(try render(text), .string(expected)))
    }

    @Test("'}}' inside a string literal and braces of nested maps do not end the expression", arguments: [
        ("${{ '}}' + 'x' }}", Value.string("}}x")),
        ("${{ \"a}}b\" }}", Value.string("a}}b")),
        ("${{ 'it\\'s }}' }}", Value.string("it's }}")),
        ("${{ {'a': {'b': 1}} }}", ["a": ["b": 1]] as Value),
        ("${{ {'a': {'b': 1}}.a.b }}", Value.int(1)),
        ("x ${{ {'k': {'v': 2}}.k.v }} y", Value.string("x 2 y")),
        ("${{ [{'a': '}}'}][0].a }}!", Value.string("}}!")),
    ])
    func closingBraces(text: String, expected: Value) throws {
        #expect(identical(try render(text), expected))
    }

    @Test("every expression is found, with its offset in the template text")
    func multipleExpressions() throws {
        let template = try Template(parsing: "${{ input.name }}-${{ input.count }}: ${{ input.tags[0] }}")
        #expect(template.expressions.map(\.offset) == [3, 21, 41])
        #expect(template.expressions.map(\.expression.description) == ["input.name", "input.count", "input.tags[0]"])
        #expect(identical(try template.render(variables), "Ada-3: a"))
        #expect(!template.isLiteral)
        #expect(template.singleExpression == nil)
    }

    // MARK: Errors

    @Test("'${{' without '}}' is an error at the '${{'", arguments: [
        ("Hello ${{ input.name", 6),
        ("${{ 'a' }} and ${{ 'b' }", 15),
        ("${{ '}}' ", 0),
        ("${{ {'a': 1} ", 0),
    ])
    func unclosed(text: String, offset: Int) throws {
        let error = try #require(templateError(text))
        #expect(error.message == "'${{' is never closed with '}}'")
        #expect(error.offset == offset)
    }

    @Test("an empty expression is an error")
    func emptyExpression() throws {
        let error = try #require(templateError("a ${{   }} b"))
        #expect(error.message == "empty expression in '${{ }}'")
        #expect(error.offset == 2)
    }

    @Test("a syntax error inside '${{ }}' is reported at its offset in the whole template")
    func syntaxErrorOffset() throws {
        let error = try #require(templateError("Hi ${{ input.name = 'x' }}"))
        #expect(error.message == "unexpected '=': use '==' to compare")
        #expect(error.offset == 18)

        // The column of the opening parenthesis is also counted in the whole template.
        let unclosed = try #require(templateError("x ${{ size(a }}"))
        #expect(unclosed.message == "expected ')' to close call of size() opened at column 11, found end of expression")
        #expect(unclosed.offset == 13)

        let multiline = "first: ${{ input.name }}\nsecond: ${{ input.count & 1 }}"
        let later = try #require(templateError(multiline))
        #expect(later.message == "unexpected '&': use '&&' for logical and")
        let location = StepwiseExpressions.SourceLocation(offset: later.offset, in: multiline)
        #expect(location.line == 2)
        #expect(location.column == 25)
    }

    @Test("an evaluation error in interpolated text points into the whole template")
    func evaluationErrorOffsetInText() throws {
        let error = try #require(try renderError("Hello ${{ input.missing }}"))
        #expect(error.message == "no such key: 'missing'")
        #expect(error.offset == 16)
    }

    @Test("an evaluation error in a single-expression template points into the whole template too")
    func evaluationErrorOffsetSingle() throws {
        let error = try #require(try renderError("  ${{ input.missing }}"))
        #expect(error.message == "no such key: 'missing'")
        #expect(error.offset == 12)
    }
}
