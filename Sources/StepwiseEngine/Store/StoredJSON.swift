import Foundation
import StepwiseExpressions
import StepwiseRuntime

/// How stores keep records as JSON text (queued messages, waits, run options, operations),
/// written and read alike by every store. A column that cannot be read decodes to `nil`.
public enum StoredJSON {
    /// `value` as JSON text.
    public static func text(_ value: some Encodable) throws -> String {
        String(decoding: try JSONEncoder().encode(value), as: UTF8.self)
    }

    /// The JSON array of a multi-value filter's `values`, as the stores bind it (`json_each`,
    /// `jsonb_array_elements_text`); `nil`, no filter, when there are none.
    public static func list(_ values: [String]) throws -> String? {
        values.isEmpty ? nil : try text(values)
    }

    /// The `T` that `text` holds, if any.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String?) -> T? {
        text.flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }

    /// The pending operation an `operations.payload` column holds, if it can be read.
    public static func operation(_ text: String?) -> StepOperation? {
        text.flatMap { try? Value(json: $0) }.flatMap(StepOperation.init(json:))
    }
}
