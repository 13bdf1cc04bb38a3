import StepwiseExpressions

/// Checks one expression where it stands in a workflow: the expression checker's findings
/// (names, functions, types) with workflow-specific hints, then the step, input and env
/// references it makes.
struct ExpressionSiteChecker {
    let workflow: Workflow
    let visibility: StepVisibility
    let firstDefinition: [String: Step]
    /// Maps an offset in the expression to its location in the file.
    let locate: @Sendable (Int) -> SourceSpan
    let context: String
    /// The type the site needs, when its value must have one (`bool` for a condition).
    var expected: ValueType?

    func check(_ expression: CELExpression, into diagnostics: inout [Diagnostic]) {
        let issues = ExpressionChecker.check(expression, in: environment, expecting: expected)
        diagnostics += issues.map(diagnostic)
        for reference in ExpressionReference.collect(in: expression) {
            switch reference.root {
            // Where no step may be used at all, the unknown name `steps` was reported once already.
            case "steps": if !visibility.noSteps, let found = stepReference(reference) { diagnostics.append(found) }
            case "input": if let found = inputReference(reference) { diagnostics.append(found) }
            case "env": if let found = environmentReference(reference) { diagnostics.append(found) }
            default: continue
            }
        }
    }

    private var environment: CheckEnvironment {
        var variables: [String: CheckedType] = ["input": .dyn, "run": .known(.map), "env": .known(.map)]
        if !visibility.noSteps { variables["steps"] = .known(.map) }
        if visibility.hasLoopVariables {
            variables["item"] = .dyn
            variables["index"] = .known(.int)
        }
        if visibility.hasError { variables["error"] = .known(.map) }
        let run: [String: CheckedType] = ["id": .known(.string), "workflow": .known(.string), "started_at": .known(.string)]
        return CheckEnvironment(variables: variables, fieldTypes: ["run": run, "input": inputFieldTypes])
    }

    /// The input's fields whose type the schema fixes and a run's input always has once
    /// validated: one JSON type that maps to one CEL type. Numbers are left out: `integer`
    /// accepts 2.0, which is a double to CEL.
    private var inputFieldTypes: [String: CheckedType] {
        var types: [String: CheckedType] = [:]
        for property in workflow.input?.properties ?? [] where property.schema.types.count == 1 {
            switch property.schema.types[0] {
            case "string": types[property.name] = .known(.string)
            case "boolean": types[property.name] = .known(.bool)
            case "array": types[property.name] = .known(.list)
            case "object": types[property.name] = .known(.map)
            default: continue
            }
        }
        return types
    }

    private func diagnostic(for issue: ExpressionDiagnostic) -> Diagnostic {
        let span = locate(issue.offset)
        switch issue.kind {
        case .unknownIdentifier:
            return unknownName(issue, at: span)
        case .unknownFunction, .wrongArgumentCount:
            return Diagnostic(.unknownFunction, "\(issue.message) in \(context)", at: span, hint: issue.hint)
        case .typeMismatch:
            return Diagnostic(.expressionType, "\(issue.message) in \(context)", at: span, hint: issue.hint)
        }
    }

    private func unknownName(_ issue: ExpressionDiagnostic, at span: SourceSpan) -> Diagnostic {
        let name = issue.message.split(separator: "'").dropFirst().first.map(String.init) ?? ""
        switch name {
        case "item", "index":
            return Diagnostic(.variableOutOfScope, "'\(name)' is only defined inside for_each steps (\(context))", at: span)
        case "error":
            return Diagnostic(.variableOutOfScope, "'error' is only defined inside catch and on_failure (\(context))", at: span)
        case "secrets":
            return Diagnostic(
                .secretInExpression, "secrets are not values and cannot be used in expressions (\(context))", at: span,
                hint: "reference a secret as {secret: NAME} in auth or headers; it is resolved when the request is sent")
        case "steps" where visibility.noSteps:
            return Diagnostic(.referenceToLaterStep, "\(context) is computed before any step runs", at: span,
                              hint: "use input, run or env here")
        default:
            return Diagnostic(.unknownName, "\(issue.message) in \(context)", at: span,
                              hint: issue.hint ?? "in scope: input, steps, run, env")
        }
    }

    private func stepReference(_ reference: ExpressionReference) -> Diagnostic? {
        guard let id = reference.path.first, !workflow.undecodedStepIds.contains(id) else { return nil }
        let span = locate(reference.offset)
        guard firstDefinition[id] != nil else {
            return Diagnostic(
                .referenceToUnknownStep, "no step has the id '\(id)' (\(context))", at: span,
                hint: SpellingSuggestion.closest(to: id, among: firstDefinition.keys).map { "did you mean '\($0)'?" })
        }
        if visibility.completed.contains(id) {
            guard visibility.skippable.contains(id), reference.path.count > 1, !reference.isNullTested else { return nil }
            return Diagnostic(
                .fieldOfSkippableStep, "step '\(id)' has an if: when it was false its result is null, and reading a field of it fails (\(context))",
                at: span, hint: "test it first: steps.\(id) != null ? steps.\(reference.path.joined(separator: ".")) : <default>")
        }
        if let branch = visibility.siblings[id] {
            return Diagnostic(
                .referenceToParallelSibling, "step '\(id)' runs in the parallel branch '\(branch)', concurrently with \(context)",
                at: span, hint: "branches cannot see each other's results; use them after the parallel step")
        }
        if let reason = visibility.conditional[id] {
            guard !reference.isGuarded else { return nil }
            return Diagnostic(
                .referenceToConditionalStep, "step '\(id)' may not have run: it is inside \(reason)", at: span,
                hint: "guard the reference with has(steps.\(id)) or steps.?\(id)")
        }
        return Diagnostic(
            .referenceToLaterStep, "step '\(id)' has not run yet when \(context) is evaluated", at: span,
            hint: "steps can only use the results of steps before them")
    }

    private func inputReference(_ reference: ExpressionReference) -> Diagnostic? {
        guard var schema = workflow.input else { return nil }
        for field in reference.path {
            if schema.types.contains("array") || !schema.items.isEmpty { return nil }
            if let property = schema.property(field) {
                schema = property
                continue
            }
            guard !schema.isOpen, !reference.isGuarded else { return nil }
            return Diagnostic(
                .undeclaredInputField, "input field '\(field)' is not declared in the input schema (\(context))",
                at: locate(reference.offset),
                hint: SpellingSuggestion.closest(to: field, among: schema.properties.map(\.name)).map { "did you mean '\($0)'?" }
                    ?? "declare it under input.properties")
        }
        return nil
    }

    private func environmentReference(_ reference: ExpressionReference) -> Diagnostic? {
        guard let name = reference.path.first, !workflow.environment.contains(where: { $0.name == name }) else { return nil }
        let span = locate(reference.offset)
        if workflow.secrets.contains(where: { $0.value == name }) {
            return Diagnostic(
                .secretInExpression, "'\(name)' is a secret and cannot be read as env.\(name) (\(context))", at: span,
                hint: "use {secret: \(name)} in auth or headers")
        }
        return Diagnostic(
            .unknownName, "env.\(name) is not declared (\(context))", at: span,
            hint: SpellingSuggestion.closest(to: name, among: workflow.environment.map(\.name)).map { "did you mean '\($0)'?" }
                ?? "declare it under env:")
    }
}
