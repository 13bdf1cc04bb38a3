import Foundation
import Testing
import StepwiseTesting


@Suite("stepwise eval")
struct EvalCommandTests {
    @Test("prints the value of an expression as JSON")
    func simpleExpression() throws {
        let result = try stepwise("eval", "1 + 2")
        #expect(result.status == 0)
        #expect(result.standardOutput == "3\n")
        #expect(result.standardError == "")
    }

    @Test("variables come from --vars")
    func variables() throws {
        let result = try stepwise("eval", "input.name.upperAscii() + '!'", "--vars", #"{"input": {"name": "Ada"}}"#)
        #expect(result.status == 0)
        #expect(result.standardOutput == "\"ADA!\"\n")
    }

    @Test("--vars @FILE reads the variables from a file")
    func variablesFromFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("stepwise-vars-\(UUID().uuidString).json")
        try Data(#"{"steps": {"fetch": {"body": {"items": [{"price": 5}, {"price": 12}]}}}}"#.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try stepwise("eval", "steps.fetch.body.items.filter(i, i.price > 10).size()", "--vars", "@" + file.path)
        #expect(result.status == 0)
        #expect(result.standardOutput == "1\n")
    }

    @Test("output is indented by default and on one line with --compact")
    func outputFormats() throws {
        let expression = "{'a': [1, 2u], 'at': timestamp('2024-01-01T00:00:00Z')}"
        let pretty = try stepwise("eval", expression)
        #expect(pretty.status == 0)
        #expect(pretty.standardOutput == """
            {
              "a": [
                1,
                2
              ],
              "at": "2024-01-01T00:00:00Z"
            }

            """)
        let compact = try stepwise("eval", "--compact", expression)
        #expect(compact.standardOutput == "{\"a\":[1,2],\"at\":\"2024-01-01T00:00:00Z\"}\n")
    }

    @Test("an expression starting with '-' is passed after '--'")
    func negativeLiteral() throws {
        let result = try stepwise("eval", "--", "-9223372036854775808")
        #expect(result.status == 0)
        #expect(result.standardOutput == "-9223372036854775808\n")
    }

    @Test("a syntax error prints 'error:' and a caret under the position, and exits with 1")
    func syntaxError() throws {
        let result = try stepwise("eval", "1 + size(x")
        #expect(result.status == 1)
        #expect(result.standardOutput == "")
        #expect(result.standardError == """
            error: syntax error: expected ')' to close call of size() opened at column 9, found end of expression
              1 + size(x
                        ^

            """)
    }

    @Test("the caret is on the line of a multi-line expression where the error is")
    func syntaxErrorOnSecondLine() throws {
        let result = try stepwise("eval", "input.items\n  .map(i, i = 1)")
        #expect(result.status == 1)
        #expect(result.standardError == """
            error: syntax error: unexpected '=': use '==' to compare
                .map(i, i = 1)
                          ^

            """)
    }

    @Test("an evaluation error points at the failing node and exits with 1")
    func evaluationError() throws {
        let result = try stepwise("eval", "input.name + input.missing", "--vars", #"{"input": {"name": "Ada"}}"#)
        #expect(result.status == 1)
        #expect(result.standardOutput == "")
        #expect(result.standardError == """
            error: no such key: 'missing'
              input.name + input.missing
                                 ^

            """)
    }

    @Test("invalid --vars is a usage error with a non-zero exit status", arguments: [
        (#"{"input": {"name": "Ada"}"#, "error: --vars is not valid JSON: expected ',' or '}' in object, found end of input at byte 25"),
        (#"{"a": 01}"#, "error: --vars is not valid JSON: leading zero in number at byte 6"),
        ("[1, 2]", "error: --vars must be a JSON object"),
        ("@/nonexistent/stepwise-vars.json", "error: cannot read --vars file '/nonexistent/stepwise-vars.json': no such file or directory"),
    ])
    func invalidVariables(vars: String, message: String) throws {
        let result = try stepwise("eval", "1", "--vars", vars)
        #expect(result.status == 2)
        #expect(result.standardOutput == "")
        #expect(result.standardError.hasPrefix(message), "stderr: \(result.standardError)")
    }
}
