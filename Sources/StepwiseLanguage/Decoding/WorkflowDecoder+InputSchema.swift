import StepwiseExpressions

/// The `input` schema: a JSON Schema subset, checked for unknown keywords and bad values.
extension WorkflowDecoder {
    static let schemaKeywords = [
        "type", "properties", "required", "items", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
        "exclusiveMaximum", "minLength", "maxLength", "pattern", "format", "minItems", "maxItems",
        "additionalProperties", "description", "default", "title", "examples",
    ]
    static let schemaTypes = ["null", "boolean", "object", "array", "number", "integer", "string"]

    mutating func inputSchema(_ node: YAMLNode) -> InputSchema? {
        guard let reader = MappingReader(node, context: "the input schema", diagnostics: &diagnostics) else { return nil }
        reader.reportUnknownKeys(allowed: Self.schemaKeywords, into: &diagnostics)
        var schema = InputSchema(at: node.span)
        if let typeNode = reader["type"] { schema.types = schemaTypes(typeNode) }
        if let properties = reader["properties"], let map = MappingReader(properties, context: "properties", diagnostics: &diagnostics) {
            schema.properties = map.entries.compactMap { entry in
                guard let name = text(entry.key, "a property name"), let property = inputSchema(entry.value) else { return nil }
                return (name, property)
            }
        }
        if let required = reader["required"] { schema.required = requiredNames(required, declared: schema) }
        if let items = reader["items"] { schema.items = inputSchema(items).map { [$0] } ?? [] }
        if let values = reader["enum"], case .list(let list)? = constant(values, "enum") { schema.enumeration = list }
        if let value = reader["const"] { schema.constant = constant(value, "const") }
        schema.minimum = reader["minimum"].flatMap { number($0, "minimum") }
        schema.maximum = reader["maximum"].flatMap { number($0, "maximum") }
        schema.exclusiveMinimum = reader["exclusiveMinimum"].flatMap { number($0, "exclusiveMinimum") }
        schema.exclusiveMaximum = reader["exclusiveMaximum"].flatMap { number($0, "exclusiveMaximum") }
        schema.minLength = reader["minLength"].flatMap { integer($0, "minLength", minimum: 0)?.value }
        schema.maxLength = reader["maxLength"].flatMap { integer($0, "maxLength", minimum: 0)?.value }
        schema.minItems = reader["minItems"].flatMap { integer($0, "minItems", minimum: 0)?.value }
        schema.maxItems = reader["maxItems"].flatMap { integer($0, "maxItems", minimum: 0)?.value }
        schema.format = reader["format"].flatMap { text($0, "format") }
        schema.pattern = reader["pattern"].flatMap { pattern($0) }
        schema.additionalProperties = reader["additionalProperties"].flatMap { additionalProperties($0) }
        _ = reader["description"].flatMap { text($0, "description") }
        if let node = reader["default"] { schema.defaultValue = defaultValue(node, of: schema) }
        return schema
    }

    /// A property's `default`: constant data its own schema accepts (a run that leaves the
    /// property out computes with it).
    private mutating func defaultValue(_ node: YAMLNode, of schema: InputSchema) -> Value? {
        guard let value = constant(node, "default") else { return nil }
        let problems = InputValidator.problems(of: value, against: schema, root: "the default")
        guard problems.isEmpty else {
            diagnostics.append(Diagnostic(
                .invalidInputSchema, "the default does not pass its own schema: " + problems.joined(separator: "; "), at: node.span))
            return nil
        }
        return value
    }

    private mutating func schemaTypes(_ node: YAMLNode) -> [String] {
        let items: [YAMLNode]
        if case .sequence(let list) = node.content { items = list } else { items = [node] }
        return items.compactMap { item in
            guard let type = text(item, "type") else { return nil }
            guard Self.schemaTypes.contains(type) else {
                let suggestion = SpellingSuggestion.closest(to: type, among: Self.schemaTypes)
                diagnostics.append(Diagnostic(
                    .invalidInputSchema, "unknown JSON Schema type '\(type)'", at: item.span,
                    hint: suggestion.map { "did you mean '\($0)'?" } ?? "use one of \(Self.schemaTypes.joined(separator: ", "))"))
                return nil
            }
            return type
        }
    }

    private mutating func requiredNames(_ node: YAMLNode, declared schema: InputSchema) -> [String] {
        guard case .sequence(let items) = node.content else {
            diagnostics.append(Diagnostic(.wrongType, "required must be a list of property names", at: node.span))
            return []
        }
        return items.compactMap { item in
            guard let name = text(item, "a required property") else { return nil }
            if !schema.properties.isEmpty, schema.property(name) == nil {
                diagnostics.append(Diagnostic(
                    .invalidInputSchema, "required property '\(name)' is not declared in properties", at: item.span,
                    hint: SpellingSuggestion.closest(to: name, among: schema.properties.map(\.name)).map { "did you mean '\($0)'?" }))
            }
            return name
        }
    }

    private mutating func constant(_ node: YAMLNode, _ what: String) -> Value? {
        guard let template = valueTemplate(node) else { return nil }
        // Objects and nested lists are constant data too, as JSON Schema allows.
        guard let value = template.literalValue else {
            diagnostics.append(Diagnostic(.invalidInputSchema, "\(what) must be constant data", at: node.span))
            return nil
        }
        return value
    }

    private mutating func number(_ node: YAMLNode, _ what: String) -> Double? {
        guard case .scalar(let text, true) = node.content, let value = Double(text) else {
            diagnostics.append(Diagnostic(.wrongType, "\(what) must be a number, found \(describe(node))", at: node.span))
            return nil
        }
        return value
    }

    private mutating func pattern(_ node: YAMLNode) -> Located<String>? {
        guard let text = text(node, "pattern") else { return nil }
        do {
            _ = try RegularExpression(text)
        } catch {
            diagnostics.append(Diagnostic(
                .invalidInputSchema, "invalid pattern: \(error.message)",
                at: node.layout.location(ofOffset: error.offset, in: text, startingAt: node.span)))
            return nil
        }
        return Located(text, at: node.span)
    }

    private mutating func additionalProperties(_ node: YAMLNode) -> InputSchema.AdditionalProperties? {
        if case .scalar = node.content { return boolean(node, "additionalProperties").map(InputSchema.AdditionalProperties.allowed) }
        return inputSchema(node).map(InputSchema.AdditionalProperties.schema)
    }
}
