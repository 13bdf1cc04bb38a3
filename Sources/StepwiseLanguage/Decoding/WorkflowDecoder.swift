import StepwiseExpressions

/// Turns a YAML document into a `Workflow`, reporting every structural problem it finds (unknown
/// and missing keys, wrong types, bad durations, cron and expression syntax) rather than stopping
/// at the first. Semantic checks across steps are `WorkflowValidator`'s.
public struct WorkflowDecoder {
    static let headerKeys = [
        "workflow", "description", "input", "secrets", "env", "retries", "timeout", "concurrency", "rate_limit",
        "schedule", "output", "on_failure", "failure_url", "steps",
    ]

    var diagnostics: [Diagnostic] = []
    /// Ids of steps whose kind could not be read.
    var undecodedStepIds: Set<String> = []

    /// The workflow described by `root`, and the problems found; the workflow is `nil` only when
    /// the document is not a mapping at all.
    public static func decode(_ root: YAMLNode) -> (workflow: Workflow?, diagnostics: [Diagnostic]) {
        var decoder = WorkflowDecoder()
        let workflow = decoder.workflow(root)
        return (workflow, decoder.diagnostics)
    }

    private mutating func workflow(_ root: YAMLNode) -> Workflow? {
        guard case .mapping = root.content else {
            diagnostics.append(Diagnostic(
                .notAWorkflow, "a workflow file must be a mapping with 'workflow' and 'steps', found \(root.kindDescription)",
                at: root.span))
            return nil
        }
        guard let header = MappingReader(root, context: "the workflow", diagnostics: &diagnostics) else { return nil }
        header.reportUnknownKeys(allowed: Self.headerKeys, into: &diagnostics)
        header.reportMissing(["workflow", "steps"], into: &diagnostics)
        let name = header["workflow"].flatMap { workflowName($0) } ?? Located("", at: root.span)
        var workflow = Workflow(name: name)
        workflow.description = header["description"].flatMap { text($0, "description") }
        workflow.input = header["input"].flatMap { inputSchema($0) }
        workflow.secrets = header["secrets"].map { secretNames($0) } ?? []
        workflow.environment = header["env"].map { environment($0) } ?? []
        workflow.retries = header["retries"].flatMap { integer($0, "retries", minimum: 0)?.value } ?? 3
        workflow.timeout = header["timeout"].flatMap { duration($0, "timeout", atLeastOneMillisecond: true) }
        workflow.concurrency = header["concurrency"].flatMap { concurrency($0) }
        workflow.rateLimit = header["rate_limit"].flatMap { rateLimit($0) }
        workflow.schedules = header["schedule"].map { schedules($0) } ?? []
        workflow.output = header["output"].flatMap { valueTemplate($0) }
        workflow.onFailure = header["on_failure"].map { steps($0, under: StepPath([.onFailure]), context: "on_failure") } ?? []
        workflow.failureURL = header["failure_url"].flatMap { failureURL($0) }
        if let stepsNode = header["steps"] {
            workflow.steps = steps(stepsNode, under: StepPath(), context: "steps")
            if case .sequence(let items) = stepsNode.content, items.isEmpty {
                diagnostics.append(Diagnostic(.emptySteps, "a workflow needs at least one step", at: stepsNode.span))
            }
        }
        workflow.undecodedStepIds = undecodedStepIds
        return workflow
    }

    /// `failure_url`: a literal http(s) URL (it is fixed for every run, like the endpoint's own).
    private mutating func failureURL(_ node: YAMLNode) -> Located<String>? {
        guard let url = text(node, "failure_url") else { return nil }
        guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.count >= 9, !url.contains("${{") else {
            diagnostics.append(Diagnostic(
                .invalidURL, "failure_url must be a fixed http:// or https:// URL, not '\(url)'", at: node.span))
            return nil
        }
        return Located(url, at: node.span)
    }

    /// Whether `name` may name a workflow: lowercase letters, digits, `-` and `_`, at most 64,
    /// starting with a letter or digit (it becomes the URL path `/workflows/<name>`).
    static func isValidName(_ name: String) -> Bool {
        let scalars = Array(name.unicodeScalars)
        return !scalars.isEmpty && scalars.count <= 64
            && (scalars.first.map { ("a"..."z").contains($0) || ("0"..."9").contains($0) } ?? false)
            && scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" }
    }

    private mutating func workflowName(_ node: YAMLNode) -> Located<String>? {
        guard let name = text(node, "workflow") else { return nil }
        if !Self.isValidName(name) {
            diagnostics.append(Diagnostic(
                .invalidWorkflowName, "invalid workflow name '\(name)'", at: node.span,
                hint: "use lowercase letters, digits, '-' and '_' (at most 64), starting with a letter or digit; it becomes the URL path /workflows/<name>"))
        }
        return Located(name, at: node.span)
    }

    private mutating func secretNames(_ node: YAMLNode) -> [Located<String>] {
        guard case .sequence(let items) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "secrets must be a list of names, found \(node.kindDescription)", at: node.span))
            return []
        }
        return items.compactMap { item in
            guard let name = text(item, "a secret name") else { return nil }
            if !Self.isSecretName(name) {
                diagnostics.append(Diagnostic(
                    .invalidIdentifier, "invalid secret name '\(name)'", at: item.span,
                    hint: "secret names are environment variable names: A-Z, 0-9 and '_', not starting with a digit"))
            }
            return Located(name, at: item.span)
        }
    }

    /// `[A-Z_][A-Z0-9_]*`: environment variable names.
    static func isSecretName(_ name: String) -> Bool {
        IdentifierShape(letters: "A"..."Z").matches(name)
    }

    private mutating func environment(_ node: YAMLNode) -> [(name: String, value: Value)] {
        guard let reader = MappingReader(node, context: "env", diagnostics: &diagnostics) else { return [] }
        return reader.entries.compactMap { entry in
            guard let name = entry.key.scalarText, case .scalar(let text, let isPlain) = entry.value.content else {
                diagnostics.append(Diagnostic(.wrongType, "env values must be strings, numbers or booleans", at: entry.value.span))
                return nil
            }
            if text.contains("${{") {
                diagnostics.append(Diagnostic(
                    .invalidValue, "env values are constants; '${{' is not evaluated here", at: entry.value.span))
            }
            if isPlain, ScalarTyping.isYAML11Boolean(text) {
                diagnostics.append(Diagnostic(
                    .yamlBooleanWord, "'\(text)' is the text \"\(text)\" here, not a boolean", at: entry.value.span,
                    hint: "Stepwise reads YAML 1.2: write true or false for a boolean, or quote '\(text)' to keep the text"))
            }
            // Kept either way, so that the steps reading it are not also reported as undeclared.
            let value = ScalarTyping.value(of: text, isPlain: isPlain)
            switch value {
            case .null:
                diagnostics.append(Diagnostic(
                    .wrongType, "env \(name) has no value (null); env values are strings, numbers or booleans", at: entry.value.span,
                    hint: "write the value, or \"\" for empty text"))
            case .double(let number) where !number.isFinite:
                diagnostics.append(Diagnostic(.invalidValue, "env \(name) is \(text), beyond what a number can hold", at: entry.value.span))
            default:
                break
            }
            return (name, value)
        }
    }

    private mutating func concurrency(_ node: YAMLNode) -> Concurrency? {
        guard let reader = MappingReader(node, context: "concurrency", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["key", "limit"], into: &diagnostics)
        reader.reportMissing(["key", "limit"], into: &diagnostics)
        guard let key = reader["key"].flatMap({ flowControlKey($0, "concurrency") }),
            let limit = reader["limit"].flatMap({ integer($0, "concurrency limit", minimum: 1) })
        else { return nil }
        return Concurrency(key: key, limit: limit)
    }

    /// The key of `owner` (`concurrency` or `rate_limit`); one written to start with a queue's
    /// reserved prefix is an error (one an expression computes so is refused when a run starts).
    private mutating func flowControlKey(_ node: YAMLNode, _ owner: String) -> ValueTemplate? {
        if case .scalar(let text, _) = node.content, text.hasPrefix(Concurrency.reservedKeyPrefix) {
            diagnostics.append(
                Diagnostic(
                    .reservedFlowControlKey, "\(owner) key '\(text)' is reserved: keys starting with '\(Concurrency.reservedKeyPrefix)' are the QStash queues' own",
                    at: node.span, hint: "choose a key of the workflow's own"))
        }
        return valueTemplate(node)
    }

    private mutating func rateLimit(_ node: YAMLNode) -> RateLimit? {
        guard let reader = MappingReader(node, context: "rate_limit", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["key", "limit", "period"], into: &diagnostics)
        reader.reportMissing(["key", "limit", "period"], into: &diagnostics)
        guard let key = reader["key"].flatMap({ flowControlKey($0, "rate_limit") }),
            let limit = reader["limit"].flatMap({ integer($0, "rate limit", minimum: 1) }),
            let period = reader["period"].flatMap({ duration($0, "rate limit period", atLeastOneMillisecond: true) })
        else { return nil }
        return RateLimit(key: key, limit: limit, period: period)
    }

    private mutating func schedules(_ node: YAMLNode) -> [Schedule] {
        guard case .sequence(let items) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "schedule must be a list of {cron, timezone, input, overlap}", at: node.span))
            return []
        }
        return items.compactMap { schedule($0) }
    }

    private mutating func schedule(_ node: YAMLNode) -> Schedule? {
        guard let reader = MappingReader(node, context: "a schedule entry", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: ["cron", "timezone", "input", "overlap"], into: &diagnostics)
        reader.reportMissing(["cron"], into: &diagnostics)
        var timeZone: Located<String>?
        if let zoneNode = reader["timezone"], let zone = text(zoneNode, "timezone") {
            timeZone = Located(zone, at: zoneNode.span)
            if !CronExpression.isValidTimeZone(zone) {
                diagnostics.append(Diagnostic(
                    .invalidTimeZone, "unknown time zone '\(zone)'", at: zoneNode.span,
                    hint: "use an IANA name such as Europe/Berlin or America/New_York"))
            }
        }
        var overlap = Schedule.Overlap.allow
        if let overlapNode = reader["overlap"], let text = text(overlapNode, "overlap") {
            if let value = Schedule.Overlap(rawValue: text) {
                overlap = value
            } else {
                diagnostics.append(Diagnostic(.invalidValue, "unknown overlap '\(text)'", at: overlapNode.span, hint: "use allow or skip"))
            }
        }
        guard let cronNode = reader["cron"], let cronText = text(cronNode, "cron") else { return nil }
        do {
            let cron = try CronExpression(parsing: cronText)
            return Schedule(
                cron: Located(cron, at: cronNode.span), timeZone: timeZone,
                input: reader["input"].flatMap { valueTemplate($0) }, overlap: overlap, span: node.span)
        } catch {
            diagnostics.append(Diagnostic(
                .invalidCron, "invalid cron expression '\(cronText)': \(error.message)",
                at: cronNode.layout.location(ofOffset: error.offset, in: cronText, startingAt: cronNode.span),
                hint: "five fields: minute hour day-of-month month day-of-week, e.g. \"0 9 * * 1-5\""))
            return nil
        }
    }
}
