import StepwiseExpressions

/// Checks a trigger payload against a workflow's `input` schema (the JSON Schema subset of the
/// language), reporting every problem with the JSON pointer of the offending value.
public struct InputValidator {
    private var problems: [String] = []
    /// What the value is called in a problem about it as a whole (`the input`, `the default`).
    private var root = "the input"

    /// The problems of `value` against `schema`, the value as a whole called `root`; empty when it conforms.
    public static func problems(of value: Value, against schema: InputSchema, root: String = "the input") -> [String] {
        var validator = InputValidator()
        validator.root = root
        validator.check(value, schema, at: "")
        return validator.problems
    }

    private mutating func check(_ value: Value, _ schema: InputSchema, at pointer: String) {
        let place = pointer.isEmpty ? root : pointer
        if !schema.types.isEmpty, !schema.types.contains(where: { Self.matches(value, type: $0) }) {
            problems.append("\(place) must be \(schema.types.joined(separator: " or ")), got \(Self.describedType(of: value, wanted: schema.types))")
            return
        }
        if let allowed = schema.enumeration, !allowed.contains(where: { $0 == value }) {
            problems.append("\(place) must be one of \(Value.list(allowed).jsonText())")
        }
        if let constant = schema.constant, constant != value {
            problems.append("\(place) must be \(constant.jsonText())")
        }
        checkNumber(value, schema, place)
        checkString(value, schema, place)
        switch value {
        case .map(let map): checkObject(map, schema, at: pointer)
        case .list(let items): checkArray(items, schema, at: pointer)
        default: break
        }
    }

    private mutating func checkNumber(_ value: Value, _ schema: InputSchema, _ place: String) {
        guard let number = Self.number(value) else { return }
        if let minimum = schema.minimum, number < minimum { problems.append("\(place) must be at least \(Self.shown(minimum))") }
        if let maximum = schema.maximum, number > maximum { problems.append("\(place) must be at most \(Self.shown(maximum))") }
        if let bound = schema.exclusiveMinimum, number <= bound { problems.append("\(place) must be greater than \(Self.shown(bound))") }
        if let bound = schema.exclusiveMaximum, number >= bound { problems.append("\(place) must be less than \(Self.shown(bound))") }
    }

    private mutating func checkString(_ value: Value, _ schema: InputSchema, _ place: String) {
        guard case .string(let text) = value else { return }
        let length = text.unicodeScalars.count
        if let minimum = schema.minLength, length < minimum { problems.append("\(place) must be at least \(Self.counted(minimum, "character")) long") }
        if let maximum = schema.maxLength, length > maximum { problems.append("\(place) must be at most \(Self.counted(maximum, "character")) long") }
        if let pattern = schema.pattern, let expression = try? RegularExpression(pattern.value), !expression.containsMatch(in: text) {
            problems.append("\(place) must match the pattern \(pattern.value)")
        }
        if let format = schema.format.flatMap(StringFormat.init(rawValue:)), !format.accepts(text) {
            problems.append("\(place) must be a valid \(format.rawValue)")
        }
    }

    private mutating func checkObject(_ map: ValueMap, _ schema: InputSchema, at pointer: String) {
        for name in schema.required where map[.string(name)] == nil {
            problems.append("\(pointer.isEmpty ? root : pointer) is missing the required property '\(name)'")
        }
        for (key, item) in map.entries {
            let path = pointer + "/" + key.text
            if let property = schema.property(key.text) {
                check(item, property, at: path)
            } else {
                switch schema.additionalProperties {
                case .allowed(false): problems.append("\(path) is not allowed (additionalProperties is false)")
                case .schema(let extra): check(item, extra, at: path)
                default: break
                }
            }
        }
    }

    private mutating func checkArray(_ items: [Value], _ schema: InputSchema, at pointer: String) {
        let place = pointer.isEmpty ? root : pointer
        if let minimum = schema.minItems, items.count < minimum { problems.append("\(place) must have at least \(Self.counted(minimum, "item"))") }
        if let maximum = schema.maxItems, items.count > maximum { problems.append("\(place) must have at most \(Self.counted(maximum, "item"))") }
        guard let itemSchema = schema.items.first else { return }
        for (index, item) in items.enumerated() { check(item, itemSchema, at: "\(pointer)/\(index)") }
    }

    private static func matches(_ value: Value, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .list), ("object", .map): true
        case ("number", .int), ("number", .uint), ("number", .double), ("integer", .int), ("integer", .uint): true
        // A whole number a double cannot hold exactly would be computed with rounded: refused.
        case ("integer", .double(let d)): InputNormalizer.integer(d) != nil
        default: false
        }
    }

    /// A schema's bound as written: `0`, not `0.0`; `2.5` as it is.
    private static func shown(_ bound: Double) -> String {
        guard bound.rounded() == bound, let whole = Int64(exactly: bound) else { return String(bound) }
        return String(whole)
    }

    /// `1 item`, `3 items`.
    private static func counted(_ count: Int, _ noun: String) -> String {
        "\(count) \(noun)\(count == 1 ? "" : "s")"
    }

    /// The JSON type of `value` for a message, saying why a whole number is not an integer.
    private static func describedType(of value: Value, wanted: [String]) -> String {
        guard wanted.contains("integer"), case .double(let number) = value, number.rounded() == number else { return jsonType(of: value) }
        return "a number beyond what can be computed with exactly (a whole number of 2^53 or more written with a fraction or an exponent, or beyond 64 bits)"
    }

    private static func jsonType(of value: Value) -> String {
        switch value {
        case .null: "null"
        case .bool: "boolean"
        case .int, .uint: "integer"
        case .double: "number"
        case .list: "array"
        case .map: "object"
        default: "string"
        }
    }

    private static func number(_ value: Value) -> Double? {
        switch value {
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        case .double(let d): d
        default: nil
        }
    }
}
