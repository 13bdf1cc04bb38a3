import StepwiseExpressions

/// What a fuzzer does with one expression: parse it as a template and render it, parse it as
/// CEL, type-check it and evaluate it within the standard limits, with variables shaped like a
/// workflow's. Shared by `stepwise-fuzz` and the coverage-guided libFuzzer build in `Fuzz/`.
public struct ExpressionExercise: Sendable {
    private let environment = CheckEnvironment(names: ["input", "steps", "env", "item", "index", "error"])
    private let variables: [String: Value] = [
        "input": ["name": "Ada", "x": .int(3), "items": .list([["qty": .int(2), "price": .double(9.5)], ["qty": .int(0), "price": .double(1)]])],
        "steps": ["fetch": ["status": .int(200), "body": ["ok": .bool(true), "items": .list([.int(1), .int(2), .int(3)])], "headers": ["content-type": "application/json"]]],
        "env": ["BILLING_URL": "https://billing.example.com"],
        "item": ["name": "thumb", "width": .int(128)],
        "index": .int(0),
        "error": ["message": "timeout", "type": "Timeout"],
    ]

    /// An exercise with the standard variables.
    public init() {}

    /// Runs `bytes` through the expression language; any outcome short of a crash or a hang is fine.
    public func run(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let template = try? Template(parsing: text) { _ = try? template.render(variables) }
        guard let expression = try? Parser.parse(text) else { return }
        _ = ExpressionChecker.check(expression, in: environment)
        _ = try? expression.evaluate(variables)
    }
}
