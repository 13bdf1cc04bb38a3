import StepwiseExpressions

/// A payload's bytes as a value, the way runs and steps show them: JSON when they are JSON, else
/// the text itself (a workflow whose input is `type: string` takes text bodies); `null` when empty.
public enum PayloadValue {
    /// The value of `bytes`.
    public static func of(_ bytes: [UInt8]) -> Value {
        guard !bytes.isEmpty else { return .null }
        let text = String(decoding: bytes, as: UTF8.self)
        return (try? Value(valueJSON: text)) ?? .string(text)
    }
}
