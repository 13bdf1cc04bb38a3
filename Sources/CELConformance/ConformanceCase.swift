import StepwiseExpressions

/// One case of the CEL specification's conformance suite (`shared/conformance/cel`).
public struct ConformanceCase: Sendable {
    /// What evaluating the expression must give.
    public enum Expectation: Sendable {
        case value(Value)
        case error
    }

    /// `file/section/name`, unique across the suite; the key used in the known-gaps list.
    public let identifier: String
    public let expression: String
    public let bindings: [String: Value]
    public let expectation: Expectation

    public init(identifier: String, expression: String, bindings: [String: Value], expectation: Expectation) {
        self.identifier = identifier
        self.expression = expression
        self.bindings = bindings
        self.expectation = expectation
    }

    /// Runs the case; `nil` when it passes, otherwise why it failed.
    public func run() -> String? {
        let actual: Value
        do {
            actual = try Parser.parse(expression).evaluate(bindings)
        } catch {
            guard case .error = expectation else { return "expected a value, got error: \(Self.message(of: error))" }
            return nil
        }
        switch expectation {
        case .error: return "expected an error, got \(describe(actual))"
        case .value(let expected):
            return StrictEquality.equal(expected, actual) ? nil : "expected \(describe(expected)), got \(describe(actual))"
        }
    }

    private static func message(of error: any Error) -> String {
        switch error {
        case let error as ParseError: "syntax error: \(error.message)"
        case let error as EvaluationError: error.message
        default: "\(error)"
        }
    }

    private func describe(_ value: Value) -> String {
        "\(value.type.name) \(value.jsonText())"
    }
}
