import StepwiseExpressions

/// A run's input as its workflow computes with it: a property the input leaves out takes the
/// schema's `default`, and a whole number sent as `2.0` (Python's floats, JavaScript, Jackson
/// doubles) where the schema says `integer` becomes the integer `2`, so that `input.n + 1` is
/// integer arithmetic whatever the client wrote. Pure, and the same at every delivery, so a
/// replay sees what the first delivery saw; the run's stored input stays as it was sent.
public enum InputNormalizer {
    /// The input of a run of `workflow` as it computes with it: `input` normalized against the
    /// workflow's `input` schema, or as it is when there is none.
    public static func normalized(_ input: Value, of workflow: Workflow) -> Value {
        workflow.input.map { normalized(input, against: $0) } ?? input
    }

    /// `value` with the `default` of each property it leaves out, and every whole `double` that
    /// `schema` types as `integer` (and not `number`) turned into an `int`; everything else as it is.
    public static func normalized(_ value: Value, against schema: InputSchema) -> Value {
        switch value {
        case .double(let number) where wantsInteger(schema):
            return integer(number) ?? value
        case .map(let map):
            var normalized = map
            for (key, item) in map.entries {
                guard let itemSchema = schema.property(key.text) ?? extraSchema(schema) else { continue }
                normalized[key] = Self.normalized(item, against: itemSchema)
            }
            for property in schema.properties where map[.string(property.name)] == nil {
                guard let value = property.schema.defaultValue else { continue }
                normalized[.string(property.name)] = Self.normalized(value, against: property.schema)
            }
            return .map(normalized)
        case .list(let items):
            guard let itemSchema = schema.items.first else { return value }
            return .list(items.map { normalized($0, against: itemSchema) })
        default:
            return value
        }
    }

    /// The integer `number` is, when it is a whole number a double holds exactly (below 2^53
    /// either way). From 2^53 on, a double may be a rounded integer: `9007199254740993.0` reads as
    /// 2^53, and `-9223372036854775809`, which no 64-bit integer holds, as the double -2^63. (An
    /// integer written without a fraction or exponent within 64 bits is read as an integer
    /// already, never as a double.)
    static func integer(_ number: Double) -> Value? {
        guard number.rounded() == number, abs(number) < Self.exactIntegers else { return nil }
        return Int64(exactly: number).map { .int($0) }
    }

    /// 2^53: the magnitude below which every double that is a whole number was written as that
    /// integer (2^53 itself is also what 2^53 + 1 rounds to).
    static let exactIntegers: Double = 9_007_199_254_740_992

    private static func wantsInteger(_ schema: InputSchema) -> Bool {
        schema.types.contains("integer") && !schema.types.contains("number")
    }

    private static func extraSchema(_ schema: InputSchema) -> InputSchema? {
        guard case .schema(let extra) = schema.additionalProperties else { return nil }
        return extra
    }
}
