import StepwiseExpressions

/// Readers for steps and the value of each step kind.
extension WorkflowDecoder {
    static let commonStepKeys = ["id", "description", "if", "timeout", "retry", "catch"]

    mutating func steps(_ node: YAMLNode, under parent: StepPath, context: String) -> [Step] {
        guard case .sequence(let items) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "\(context) must be a list of steps, found \(node.kindDescription)", at: node.span))
            return []
        }
        return items.compactMap { step($0, under: parent) }
    }

    mutating func step(_ node: YAMLNode, under parent: StepPath) -> Step? {
        var idText: String?
        if case .mapping(let entries) = node.content { idText = entries.first { $0.key.scalarText == "id" }?.value.scalarText }
        let context = idText.map { "step '\($0)'" } ?? "a step"
        guard let reader = MappingReader(node, context: context, diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: Self.commonStepKeys + StepKind.keywords, into: &diagnostics)
        let id = stepIdentifier(reader)
        let path = parent.appending(.step(id.value))
        let kindEntries = reader.entries.filter { StepKind.keywords.contains($0.key.scalarText ?? "") }
        var kind: StepKind?
        if let kindEntry = kindEntries.first {
            for extra in kindEntries.dropFirst() {
                diagnostics.append(Diagnostic(
                    .stepWithSeveralKinds,
                    "\(context) has two kinds, '\(kindEntry.key.scalarText ?? "")' and '\(extra.key.scalarText ?? "")'",
                    at: extra.key.span, hint: "split it into two steps"))
            }
            kind = kindEntry.key.scalarText.flatMap { stepKind($0, kindEntry.value, path: path) }
        } else {
            diagnostics.append(Diagnostic(
                .stepWithoutKind, "\(context) has no kind", at: node.span,
                hint: "give it exactly one of: \(StepKind.keywords.joined(separator: ", "))"))
        }
        // The common keys are checked even when the kind is missing or invalid.
        let description = reader["description"].flatMap { text($0, "description") }
        let stepCondition = reader["if"].flatMap { self.condition($0, "if") }
        let timeout = reader["timeout"].flatMap { duration($0, "timeout", atLeastOneMillisecond: true) }
        let retry = reader["retry"].flatMap { retryPolicy($0) }
        let catchSteps = reader["catch"].map { steps($0, under: path.appending(.catch), context: "catch") } ?? []
        if let catchNode = reader["catch"], case .sequence(let handlers) = catchNode.content, handlers.isEmpty {
            diagnostics.append(Diagnostic(
                .invalidValue, "catch has no steps, so it catches nothing: the failure still fails the run", at: catchNode.span,
                hint: "to go on after a failure, give catch a step, e.g. [{id: ignored, set: {failed: true}}]"))
        }
        guard let kind else {
            if !id.value.isEmpty { undecodedStepIds.insert(id.value) }
            return nil
        }
        var step = Step(id: id, path: path, kind: kind, span: node.span)
        step.description = description
        step.condition = stepCondition
        step.timeout = timeout
        step.retry = retry
        step.catchSteps = catchSteps
        return step
    }

    private mutating func stepIdentifier(_ reader: MappingReader) -> Located<String> {
        guard let node = reader["id"] else {
            diagnostics.append(Diagnostic(
                .missingKey, "step is missing required key 'id'", at: reader.node.span,
                hint: "every step needs an id ([a-z_][a-z0-9_]*): it names the result, steps.<id>"))
            return Located("", at: reader.node.span)
        }
        guard let id = text(node, "id") else { return Located("", at: node.span) }
        if !Self.isStepIdentifier(id) {
            diagnostics.append(Diagnostic(
                .invalidIdentifier, "invalid step id '\(id)'", at: node.span,
                hint: "ids use lowercase letters, digits and '_', starting with a letter or '_', so that steps.\(id) is an expression"))
        }
        return Located(id, at: node.span)
    }

    /// `[a-z_][a-z0-9_]*`: step ids and branch names, usable as `steps.<id>`.
    static func isStepIdentifier(_ id: String) -> Bool {
        IdentifierShape(letters: "a"..."z").matches(id)
    }

    private mutating func stepKind(_ keyword: String, _ node: YAMLNode, path: StepPath) -> StepKind? {
        switch keyword {
        case "http": return request(node, context: "http").map(StepKind.http)
        case "call": return request(node, context: "call").map(StepKind.call)
        case "sleep": return durationOrTemplate(node, "sleep").map(StepKind.sleep)
        case "sleep_until": return sleepUntil(node).map(StepKind.sleepUntil)
        case "wait_for_event": return eventWait(node).map(StepKind.waitForEvent)
        case "notify": return notification(node).map(StepKind.notify)
        case "invoke": return invocation(node).map(StepKind.invoke)
        case "set": return assignments(node).map(StepKind.set)
        case "switch": return switchCases(node, path: path).map(StepKind.switch)
        case "parallel": return branches(node, path: path).map(StepKind.parallel)
        case "for_each": return loop(node, path: path).map(StepKind.forEach)
        case "return": return valueTemplate(node).map(StepKind.return)
        case "cancel": return cancellation(node)
        default: return failure(node).map(StepKind.fail)
        }
    }

    private mutating func sleepUntil(_ node: YAMLNode) -> ValueTemplate? {
        guard let text = text(node, "sleep_until") else { return nil }
        if text.contains("${{") { return valueTemplate(node) }
        do {
            return ValueTemplate(.literal(.timestamp(try TimestampValue(parsing: text))), at: node.span)
        } catch {
            diagnostics.append(Diagnostic(
                .invalidTimestamp, "sleep_until: \(error.message)", at: node.span,
                hint: "write an RFC 3339 time such as 2026-12-24T18:00:00Z or 2026-12-24T18:00:00+01:00"))
            return nil
        }
    }

    private mutating func eventWait(_ node: YAMLNode) -> EventWait? {
        guard let reader = MappingReader(node, context: "wait_for_event", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["event", "timeout"], into: &diagnostics)
        reader.reportMissing(["event"], into: &diagnostics)
        guard let event = reader["event"].flatMap({ valueTemplate($0) }) else { return nil }
        return EventWait(
            event: event, timeout: reader["timeout"].flatMap { duration($0, "wait_for_event timeout") }, hasTimeoutKey: reader["timeout"] != nil)
    }

    private mutating func notification(_ node: YAMLNode) -> EventNotification? {
        guard let reader = MappingReader(node, context: "notify", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["event", "data"], into: &diagnostics)
        reader.reportMissing(["event"], into: &diagnostics)
        guard let event = reader["event"].flatMap({ valueTemplate($0) }) else { return nil }
        return EventNotification(event: event, data: reader["data"].flatMap { valueTemplate($0) })
    }

    private mutating func invocation(_ node: YAMLNode) -> WorkflowInvocation? {
        guard let reader = MappingReader(node, context: "invoke", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["workflow", "input"], into: &diagnostics)
        reader.reportMissing(["workflow"], into: &diagnostics)
        guard let workflowNode = reader["workflow"], let name = text(workflowNode, "invoke workflow") else { return nil }
        if name.contains("${{") {
            // Never evaluated: every run would fail looking for a workflow named by the template's text.
            diagnostics.append(Diagnostic(
                .invalidValue, "invoke workflow must be a workflow's name; it cannot be built by an expression", at: workflowNode.span,
                hint: "choose between invoke steps with if: or switch:"))
        }
        return WorkflowInvocation(workflow: Located(name, at: workflowNode.span), input: reader["input"].flatMap { valueTemplate($0) })
    }

    private mutating func assignments(_ node: YAMLNode) -> [(name: String, value: ValueTemplate)]? {
        guard let reader = MappingReader(node, context: "set", diagnostics: &diagnostics) else { return nil }
        var values: [(name: String, value: ValueTemplate)] = []
        for entry in reader.entries {
            guard let name = text(entry.key, "a set name"), let value = valueTemplate(entry.value) else { continue }
            checkNotTemplate(key: name, at: entry.key.span)
            values.append((name, value))
        }
        return values
    }

    private mutating func switchCases(_ node: YAMLNode, path: StepPath) -> [SwitchCase]? {
        guard case .sequence(let items) = node.content else {
            diagnostics.append(Diagnostic(
                .wrongType, "switch must be a list of cases ({when, steps} and a last {default}), found \(node.kindDescription)",
                at: node.span))
            return nil
        }
        var cases: [SwitchCase] = []
        for (position, item) in items.enumerated() {
            guard let reader = MappingReader(item, context: "a switch case", diagnostics: &diagnostics) else { continue }
            if let defaultSteps = reader["default"] {
                reader.reportUnknownKeys(allowed: ["default"], into: &diagnostics)
                if position != items.count - 1 {
                    diagnostics.append(Diagnostic(
                        .invalidValue, "the default case must come last: cases after it never run", at: item.span))
                }
                cases.append(SwitchCase(condition: nil, steps: steps(defaultSteps, under: path, context: "default"), span: item.span))
                continue
            }
            reader.reportUnknownKeys(allowed: ["when", "steps"], into: &diagnostics)
            reader.reportMissing(["when", "steps"], into: &diagnostics)
            let condition = reader["when"].flatMap { self.condition($0, "when") }
            cases.append(SwitchCase(
                condition: condition, steps: reader["steps"].map { steps($0, under: path, context: "steps") } ?? [], span: item.span))
        }
        return cases
    }

    private mutating func branches(_ node: YAMLNode, path: StepPath) -> [ParallelBranch]? {
        guard let reader = MappingReader(node, context: "parallel", diagnostics: &diagnostics) else { return nil }
        if reader.entries.isEmpty {
            diagnostics.append(Diagnostic(.emptySteps, "parallel needs at least one branch", at: node.span))
        }
        return reader.entries.compactMap { entry in
            guard let name = text(entry.key, "a branch name") else { return nil }
            if !Self.isStepIdentifier(name) {
                diagnostics.append(Diagnostic(
                    .invalidIdentifier, "invalid branch name '\(name)'", at: entry.key.span,
                    hint: "branch names use lowercase letters, digits and '_': they are keys of the result"))
            }
            let branchPath = path.appending(.branch(name))
            return ParallelBranch(name: Located(name, at: entry.key.span), steps: steps(entry.value, under: branchPath, context: "branch '\(name)'"))
        }
    }

    private mutating func loop(_ node: YAMLNode, path: StepPath) -> ForEachLoop? {
        guard let reader = MappingReader(node, context: "for_each", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["items", "concurrency", "steps"], into: &diagnostics)
        reader.reportMissing(["items", "steps"], into: &diagnostics)
        guard let items = reader["items"].flatMap({ valueTemplate($0) }), let stepsNode = reader["steps"] else { return nil }
        if case .list = items.kind {
        } else if case .template(let template, _, _) = items.kind, template.singleExpression != nil {
        } else {
            diagnostics.append(Diagnostic(
                .wrongType, "for_each items must be a list or one ${{ }} expression that yields a list", at: items.span))
        }
        return ForEachLoop(
            items: items, concurrency: reader["concurrency"].flatMap { integer($0, "for_each concurrency", minimum: 1) },
            steps: steps(stepsNode, under: path.appending(.iteration), context: "for_each steps"))
    }

    private mutating func failure(_ node: YAMLNode) -> Failure? {
        guard let reader = MappingReader(node, context: "fail", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["message", "type"], into: &diagnostics)
        reader.reportMissing(["message"], into: &diagnostics)
        guard let message = reader["message"].flatMap({ valueTemplate($0) }) else { return nil }
        return Failure(message: message, type: reader["type"].flatMap { valueTemplate($0) })
    }

    /// `cancel: reason` (text, templates allowed), or `cancel: null` (or an empty value) for no reason.
    private mutating func cancellation(_ node: YAMLNode) -> StepKind? {
        if case .scalar = node.content {
            // `nil`: a template syntax error, reported already.
            guard let reason = valueTemplate(node) else { return nil }
            switch reason.kind {
            case .literal(.null): return .cancel(nil)
            case .literal(.string), .template: return .cancel(reason)
            default: break
            }
        }
        diagnostics.append(Diagnostic(
            .wrongType, "cancel must be the reason as text (templates allowed) or null, found \(describe(node))", at: node.span,
            hint: "write cancel: \"withdrawn by ${{ input.user }}\", or cancel: null to cancel without a reason"))
        return nil
    }

    private mutating func retryPolicy(_ node: YAMLNode) -> RetryPolicy? {
        guard let reader = MappingReader(node, context: "retry", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["attempts", "backoff", "initial", "max", "jitter", "on"], into: &diagnostics)
        var policy = RetryPolicy(
            attempts: reader["attempts"].flatMap { integer($0, "retry attempts", minimum: 1)?.value } ?? 3,
            backoff: .exponential, initial: nil, maximum: nil, jitter: true, conditions: [], span: node.span)
        if let backoffNode = reader["backoff"], let backoff = text(backoffNode, "backoff") {
            if let value = RetryPolicy.Backoff(rawValue: backoff) {
                policy.backoff = value
            } else {
                diagnostics.append(Diagnostic(
                    .invalidValue, "unknown backoff '\(backoff)'", at: backoffNode.span, hint: "use constant or exponential"))
            }
        }
        policy.initial = reader["initial"].flatMap { duration($0, "retry initial delay")?.value }
        policy.maximum = reader["max"].flatMap { duration($0, "retry max delay")?.value }
        policy.jitter = reader["jitter"].flatMap { boolean($0, "jitter") } ?? true
        if let onNode = reader["on"] { policy.conditions = retryConditions(onNode) }
        return policy
    }

    private mutating func retryConditions(_ node: YAMLNode) -> [RetryPolicy.Condition] {
        let items: [YAMLNode]
        if case .sequence(let list) = node.content { items = list } else { items = [node] }
        return items.compactMap { item in
            guard let text = text(item, "a retry condition") else { return nil }
            if let status = Int(text) {
                guard (100...599).contains(status) else {
                    diagnostics.append(Diagnostic(.invalidValue, "\(status) is not an HTTP status", at: item.span))
                    return nil
                }
                return .status(status)
            }
            // A misspelt type would match no failure: the retry it asks for would never happen.
            guard RetryPolicy.retryableErrorTypes.contains(text) else {
                let known = RetryPolicy.retryableErrorTypes
                diagnostics.append(Diagnostic(
                    .invalidValue, "'\(text)' is no error type a retry can match",
                    at: item.span, hint: SpellingSuggestion.closest(to: text, among: Set(known)).map { "did you mean '\($0)'?" }
                        ?? "use an HTTP status or one of \(known.joined(separator: ", "))"))
                return nil
            }
            return .errorType(text)
        }
    }
}
