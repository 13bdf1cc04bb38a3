import StepwiseExpressions

/// Parses each input as a CEL expression, type-checks it and evaluates it within the standard
/// evaluation limits, with variables shaped like a workflow's.
struct ExpressionTarget: FuzzTarget {
    let name = "expressions"
    let mutator = Mutator(tokens: Mutator.yamlAndExpressionTokens, maximumLength: 4 * 1024)
    private let environment = CheckEnvironment(names: ["input", "steps", "env", "item", "index", "error"])
    private let variables: [String: Value] = [
        "input": ["name": "Ada", "x": .int(3), "items": .list([["qty": .int(2), "price": .double(9.5)], ["qty": .int(0), "price": .double(1)]])],
        "steps": ["fetch": ["status": .int(200), "body": ["ok": .bool(true), "items": .list([.int(1), .int(2), .int(3)])], "headers": ["content-type": "application/json"]]],
        "env": ["BILLING_URL": "https://billing.example.com"],
        "item": ["name": "thumb", "width": .int(128)],
        "index": .int(0),
        "error": ["message": "timeout", "type": "Timeout"],
    ]

    func run(_ input: [UInt8]) -> String? {
        let text = String(decoding: input, as: UTF8.self)
        if let template = try? Template(parsing: text) { _ = try? template.render(variables) }
        guard let expression = try? Parser.parse(text) else { return nil }
        _ = ExpressionChecker.check(expression, in: environment)
        _ = try? expression.evaluate(variables)
        return nil
    }
}
