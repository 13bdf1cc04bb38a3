/// The CEL type of a value; types are themselves values (`type(1) == int`).
public enum ValueType: String, Sendable, Hashable, CaseIterable {
    case null = "null_type"
    case bool
    case int
    case uint
    case double
    case string
    case bytes
    case list
    case map
    case timestamp = "google.protobuf.Timestamp"
    case duration = "google.protobuf.Duration"
    case type
    case optional = "optional_type"

    /// The type whose denotation is `name` in an expression (`int`, `null_type`, …), if any.
    public init?(denotation name: String) {
        self.init(rawValue: name)
    }

    /// The name CEL prints for this type.
    public var name: String { rawValue }
}
