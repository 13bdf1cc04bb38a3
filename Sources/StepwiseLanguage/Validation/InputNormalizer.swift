import StepwiseExpressions

/// A run's input as its workflow computes with it: a whole number sent as `2.0` (Python's floats,
/// JavaScript, Jackson doubles) where the `input` schema says `integer` becomes the integer `2`,
/// so that `input.n + 1` is integer arithmetic whatever the client wrote. Pure, and the same at
/// every delivery, so a replay sees what the first delivery saw.
public enum InputNormalizer {
    /// `value` with every whole `double` that `schema` types as `integer` (and not `number`)
    /// turned into an `int` (or a `uint` above `Int64.max`); everything else as it is.
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
            return .map(normalized)
        case .list(let items):
            guard let itemSchema = schema.items.first else { return value }
            return .list(items.map { normalized($0, against: itemSchema) })
        default:
            return value
        }
    }

    /// The integer `number` is, when it is a whole number within 64 bits.
    static func integer(_ number: Double) -> Value? {
        guard number.rounded() == number else { return nil }
        if let signed = Int64(exactly: number) { return .int(signed) }
        return UInt64(exactly: number).map { .uint($0) }
    }

    private static func wantsInteger(_ schema: InputSchema) -> Bool {
        schema.types.contains("integer") && !schema.types.contains("number")
    }

    private static func extraSchema(_ schema: InputSchema) -> InputSchema? {
        guard case .schema(let extra) = schema.additionalProperties else { return nil }
        return extra
    }
}
