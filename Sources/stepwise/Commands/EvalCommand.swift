import ArgumentParser
import Foundation
import StepwiseExpressions
import StepwiseLanguage

/// `stepwise eval`: evaluates one expression of the workflow language and prints the result as JSON.
struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate an expression and print the result as JSON.",
        discussion: """
            The expression uses Stepwise's expression language (a CEL subset over JSON), the one \
            inside ${{ }} in workflow files. Variables come from --vars, a JSON object.

              stepwise eval 'math.greatest(input.items.map(i, i.price * i.qty))' \\
                  --vars '{"input": {"items": [{"price": 2, "qty": 3}]}}'
              stepwise eval 'size(input.name) > 3' --vars '{"input": {"name": "Ada"}}'

            An expression that starts with '-' goes after '--', which ends the options:

              stepwise eval -- '-7 / 2'
            """
    )

    @Argument(help: "The expression, e.g. \"1 + 2\" or \"input.name.upperAscii()\".")
    var expression: String

    @Option(name: .long, help: "Variables as a JSON object, or @FILE to read it from a file.")
    var vars: String = "{}"

    @Flag(name: .long, help: "Print the result on one line instead of indented.")
    var compact = false

    func run() throws {
        let variables = try readVariables()
        let parsed: CELExpression
        do throws(ParseError) {
            parsed = try Parser.parse(expression)
        } catch {
            throw reportFailure("syntax error: \(error.message)", at: error.offset)
        }
        do throws(EvaluationError) {
            let value = try parsed.evaluate(variables)
            print(value.jsonText(pretty: !compact))
        } catch {
            throw reportFailure(error.message, at: error.offset)
        }
    }

    private func readVariables() throws -> [String: Value] {
        var text = vars
        if text.hasPrefix("@") {
            let path = String(text.dropFirst())
            switch WorkflowSourceReader.text(atPath: path) {
            case .success(let contents): text = contents
            case .failure(let unreadable): throw usageError("cannot read --vars file '\(path)': \(unreadable.reason)")
            }
        }
        let value: Value
        do {
            value = try Value(json: text)
        } catch {
            throw usageError("--vars is not valid JSON: \(error.message) at byte \(error.offset)")
        }
        guard case .map(let map) = value else { throw usageError("--vars must be a JSON object, like '{\"input\": {}}'") }
        var variables: [String: Value] = [:]
        for (key, value) in map.entries { variables[key.text] = value }
        return variables
    }

    /// Prints a usage problem and returns exit status 2, the status for usage and I/O errors.
    private func usageError(_ message: String) -> ExitCode {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
        return ExitCode(2)
    }

    /// Prints the error with a caret under its position and returns the exit code for it.
    private func reportFailure(_ message: String, at offset: Int?) -> ExitCode {
        var output = "error: \(message)\n"
        if let offset {
            output += SourceLocation(offset: offset, in: expression).snippet(of: expression) + "\n"
        }
        FileHandle.standardError.write(Data(output.utf8))
        return ExitCode.failure
    }
}
