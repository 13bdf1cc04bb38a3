import StepwiseExpressions

/// Readers for scalar values and data: each reports what is wrong and returns `nil`.
extension WorkflowDecoder {
    mutating func text(_ node: YAMLNode, _ what: String) -> String? {
        guard case .scalar(let text, _) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "\(what) must be text, found \(node.kindDescription)", at: node.span))
            return nil
        }
        return text
    }

    mutating func integer(_ node: YAMLNode, _ what: String, minimum: Int) -> Located<Int>? {
        guard case .scalar(let text, let isPlain) = node.content, isPlain, let value = Int(text) else {
            diagnostics.append(Diagnostic(
                .wrongType, "\(what) must be a whole number, found \(describe(node))", at: node.span))
            return nil
        }
        guard value >= minimum else {
            diagnostics.append(Diagnostic(.invalidValue, "\(what) must be at least \(minimum), found \(value)", at: node.span))
            return nil
        }
        return Located(value, at: node.span)
    }

    mutating func boolean(_ node: YAMLNode, _ what: String) -> Bool? {
        if case .scalar(let text, true) = node.content, case .bool(let value) = ScalarTyping.value(of: text, isPlain: true) {
            return value
        }
        let yamlWord = node.scalarText.map(ScalarTyping.isYAML11Boolean) ?? false
        diagnostics.append(Diagnostic(
            .wrongType, "\(what) must be true or false, found \(describe(node))", at: node.span,
            hint: yamlWord ? "Stepwise reads YAML 1.2, where yes/no/on/off are text: write true or false" : nil))
        return nil
    }

    /// Reports a mapping key that holds `${{`: keys are not evaluated, so it would stay as written.
    mutating func checkNotTemplate(key: String, at span: SourceSpan) {
        guard key.contains("${{") else { return }
        diagnostics.append(Diagnostic(
            .invalidValue, "a key is not a template: '\(key)' would stay as written", at: span,
            hint: "build the map in one expression, e.g. \"${{ {input.name: 'value'} }}\""))
    }

    mutating func duration(_ node: YAMLNode, _ what: String, atLeastOneMillisecond: Bool = false) -> Located<DurationValue>? {
        guard let text = text(node, what) else { return nil }
        do {
            let value = try DurationValue(parsing: text, allowingCalendarUnits: true)
            if value.nanoseconds < 0 {
                diagnostics.append(Diagnostic(.invalidDuration, "\(what) must not be negative, found '\(text)'", at: node.span))
                return nil
            }
            if value.nanoseconds < 1_000_000, atLeastOneMillisecond {
                diagnostics.append(Diagnostic(.invalidDuration, "\(what) must be at least 1ms, found '\(text)'", at: node.span))
                return nil
            }
            return Located(value, at: node.span)
        } catch {
            let computed = text.contains("${{")
            diagnostics.append(Diagnostic(
                .invalidDuration, computed ? "\(what) must be a fixed duration, not computed with ${{ }}" : "\(what): \(error.message)",
                at: node.span,
                hint: computed
                    ? "only sleep and sleep_until may be computed; write a number and a unit such as 15m"
                    : "write a number and a unit: 250ms, 90s, 15m, 1h30m, 3d, 2w"))
            return nil
        }
    }

    /// A duration that may also be computed: `sleep: 3d` or `sleep: ${{ input.delay }}`.
    mutating func durationOrTemplate(_ node: YAMLNode, _ what: String) -> ValueTemplate? {
        if let text = node.scalarText, text.contains("${{") { return valueTemplate(node) }
        return duration(node, what).map { ValueTemplate(.literal(.duration($0.value)), at: node.span) }
    }

    /// A condition (`if`, `when`): `true`, `false`, or exactly one `${{ }}` expression.
    mutating func condition(_ node: YAMLNode, _ what: String) -> ValueTemplate? {
        if case .scalar(let text, true) = node.content, ScalarTyping.isYAML11Boolean(text) {
            // One error with the YAML 1.2 hint, not an SW006 warning on top of it (as for `jitter: yes`).
            diagnostics.append(Diagnostic(
                .wrongType, "\(what) must be true, false or one ${{ }} expression, found '\(text)'", at: node.span,
                hint: "Stepwise reads YAML 1.2, where yes/no/on/off are text: write true or false"))
            return nil
        }
        guard let value = valueTemplate(node) else { return nil }
        switch value.kind {
        case .literal(.bool): return value
        case .template(let template, _, _) where template.singleExpression != nil: return value
        default:
            diagnostics.append(Diagnostic(
                .wrongType, "\(what) must be true, false or one ${{ }} expression, found \(describe(node))", at: node.span,
                hint: "write the whole condition inside ${{ }}, e.g. ${{ steps.check.status == 200 }}"))
            return nil
        }
    }

    /// Data that may embed `${{ }}`; `{secret: NAME}` is accepted only where `allowingSecrets`.
    mutating func valueTemplate(_ node: YAMLNode, allowingSecrets: Bool = false) -> ValueTemplate? {
        switch node.content {
        case .scalar(let text, let isPlain):
            return scalarTemplate(text, isPlain: isPlain, node: node)
        case .sequence(let items):
            var values: [ValueTemplate] = []
            for item in items {
                guard let value = valueTemplate(item, allowingSecrets: allowingSecrets) else { return nil }
                values.append(value)
            }
            return ValueTemplate(.list(values), at: node.span)
        case .mapping(let entries):
            if let secret = secretReference(entries) {
                if !allowingSecrets {
                    diagnostics.append(Diagnostic(
                        .secretOutsideAuth, "secret '\(secret)' used outside auth and headers", at: node.span,
                        hint: "secrets may only appear as {secret: NAME} in auth or headers, so they are never journaled"))
                }
                return ValueTemplate(.secret(secret), at: node.span)
            }
            var values: [(key: String, value: ValueTemplate)] = []
            for entry in entries {
                guard let key = text(entry.key, "a key"), let value = valueTemplate(entry.value, allowingSecrets: allowingSecrets) else {
                    return nil
                }
                checkNotTemplate(key: key, at: entry.key.span)
                values.append((key, value))
            }
            return ValueTemplate(.map(values), at: node.span)
        }
    }

    private func secretReference(_ entries: [YAMLEntry]) -> String? {
        guard entries.count == 1, entries[0].key.scalarText == "secret" else { return nil }
        return entries[0].value.scalarText
    }

    private mutating func scalarTemplate(_ text: String, isPlain: Bool, node: YAMLNode) -> ValueTemplate? {
        guard text.contains("${{") else {
            if isPlain, ScalarTyping.isYAML11Boolean(text) {
                diagnostics.append(Diagnostic(
                    .yamlBooleanWord, "'\(text)' is the text \"\(text)\" here, not a boolean", at: node.span,
                    hint: "Stepwise reads YAML 1.2: write true or false for a boolean, or quote '\(text)' to keep the text"))
            }
            return ValueTemplate(.literal(ScalarTyping.value(of: text, isPlain: isPlain)), at: node.span)
        }
        do {
            let template = try Template(parsing: text)
            return ValueTemplate(.template(template, text: text, layout: node.layout), at: node.span)
        } catch {
            let locate = { (offset: Int) in node.layout.location(ofOffset: offset, in: text, startingAt: node.span) }
            diagnostics.append(Diagnostic(
                .expressionSyntax, error.message { locate($0).description }, at: locate(error.offset)))
            return nil
        }
    }

    func describe(_ node: YAMLNode) -> String {
        guard let text = node.scalarText else { return node.kindDescription }
        return "'\(text)'"
    }
}
