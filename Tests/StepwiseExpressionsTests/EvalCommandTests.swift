import Foundation
import Testing

/// The built `stepwise` executable: next to the test bundle (the products directory), or in the
/// package's `.build/debug` when the tests run from somewhere else.
private let stepwiseExecutable: URL? = {
    var directories: [URL] = [Bundle.main.bundleURL, Bundle.main.bundleURL.deletingLastPathComponent()]
    for bundle in Bundle.allBundles where bundle.bundleURL.pathExtension == "xctest" {
        directories.append(bundle.bundleURL.deletingLastPathComponent())
    }
    if let executable = Bundle.main.executableURL { directories.append(executable.deletingLastPathComponent()) }
    if let first = CommandLine.arguments.first { directories.append(URL(fileURLWithPath: first).deletingLastPathComponent()) }
    // Tests/StepwiseExpressionsTests/EvalCommandTests.swift → the package root.
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    directories.append(packageRoot.appendingPathComponent(".build/debug"))
    for directory in directories {
        let candidate = directory.appendingPathComponent("stepwise")
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: candidate.path, isDirectory: &isDirectory), !isDirectory.boolValue,
            FileManager.default.isExecutableFile(atPath: candidate.path)
        {
            return candidate
        }
    }
    return nil
}()

/// What a run of the command printed, and its exit status.
private struct CommandResult {
    let status: Int32
    let standardOutput: String
    let standardError: String
}

private func stepwise(_ arguments: String...) throws -> CommandResult {
    let executable = try #require(
        stepwiseExecutable,
        "the stepwise executable was not found next to the test bundle or in .build/debug; build it with `swift build`")
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    let output = Pipe()
    let error = Pipe()
    process.standardOutput = output
    process.standardError = error
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // The outputs here are small, far below a pipe's buffer, so reading one after the other cannot block.
    let outputData = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = error.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(
        status: process.terminationStatus,
        standardOutput: String(decoding: outputData, as: UTF8.self),
        standardError: String(decoding: errorData, as: UTF8.self))
}

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
        ("@/nonexistent/stepwise-vars.json", "error: cannot read --vars file '/nonexistent/stepwise-vars.json'"),
    ])
    func invalidVariables(vars: String, message: String) throws {
        let result = try stepwise("eval", "1", "--vars", vars)
        #expect(result.status == 2)
        #expect(result.standardOutput == "")
        #expect(result.standardError.hasPrefix(message), "stderr: \(result.standardError)")
    }
}
