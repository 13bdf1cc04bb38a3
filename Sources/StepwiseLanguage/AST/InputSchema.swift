import StepwiseExpressions

/// The JSON Schema subset a workflow's `input` is declared with, checked at trigger time.
public struct InputSchema: Sendable {
    public var types: [String]
    public var properties: [(name: String, schema: InputSchema)]
    public var required: [String]
    public var items: [InputSchema]
    public var enumeration: [Value]?
    public var constant: Value?
    public var minimum: Double?
    public var maximum: Double?
    public var exclusiveMinimum: Double?
    public var exclusiveMaximum: Double?
    public var minLength: Int?
    public var maxLength: Int?
    public var pattern: Located<String>?
    public var format: String?
    public var minItems: Int?
    public var maxItems: Int?
    /// `false` closes the object; a schema constrains extra properties; `nil` allows anything.
    public var additionalProperties: AdditionalProperties?
    /// `default`: the value of this property when the input leaves it out.
    public var defaultValue: Value?
    public var span: SourceSpan

    /// What an object allows beyond its declared `properties`.
    public indirect enum AdditionalProperties: Sendable {
        case allowed(Bool)
        case schema(InputSchema)
    }

    public init(at span: SourceSpan) {
        types = []
        properties = []
        required = []
        items = []
        self.span = span
    }

    /// The schema of a declared property.
    public func property(_ name: String) -> InputSchema? {
        properties.first { $0.name == name }?.schema
    }

    /// Whether undeclared properties are expected: no `properties` are declared, or
    /// `additionalProperties` explicitly allows more. References to other fields are likely typos.
    public var isOpen: Bool {
        guard !properties.isEmpty else { return true }
        switch additionalProperties {
        case .allowed(true), .schema: return true
        case .none, .allowed(false): return false
        }
    }
}
