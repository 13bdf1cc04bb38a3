import Foundation
import StepwiseExpressions

/// JSON and base64 as the wire uses them: documents are UTF-8 bytes, binary fields are standard
/// base64 with padding (what `btoa` and Python's `b64encode` produce).
enum WireJSON {
    /// Parses a UTF-8 JSON document; `what` names it in the error (`the batch body`).
    static func parse(_ bytes: [UInt8], what: String) throws(ProtocolError) -> Value {
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ProtocolError("\(what) is not UTF-8")
        }
        do {
            return try Value(json: text)
        } catch {
            throw ProtocolError("\(what) is not JSON: \(error.message) at offset \(error.offset)")
        }
    }

    /// The compact JSON text of `value` as bytes.
    static func bytes(_ value: Value) -> [UInt8] {
        Array(value.jsonText().utf8)
    }

    /// The members of a JSON object, or an error naming `what` when it is something else.
    static func object(_ value: Value, what: String) throws(ProtocolError) -> ValueMap {
        guard case .map(let map) = value else { throw ProtocolError("\(what) must be a JSON object") }
        return map
    }

    /// Standard base64 with padding.
    static func base64(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString()
    }

    /// Decodes standard base64, tolerating missing padding (some clients strip it).
    static func unbase64(_ text: String, what: String) throws(ProtocolError) -> [UInt8] {
        let padding = String(repeating: "=", count: (4 - text.utf8.count % 4) % 4)
        guard let data = Data(base64Encoded: text + padding) else { throw ProtocolError("\(what) is not base64") }
        return Array(data)
    }
}

extension ValueMap {
    /// The string member `key`: `nil` when absent or `null`, an error when of another type.
    func string(_ key: String) throws(ProtocolError) -> String? {
        switch self[.string(key)] {
        case nil, .null?: return nil
        case .string(let text)?: return text
        default: throw ProtocolError("'\(key)' must be a string")
        }
    }

    /// The integer member `key`: `nil` when absent or `null`, an error when not an integer.
    func integer(_ key: String) throws(ProtocolError) -> Int64? {
        switch self[.string(key)] {
        case nil, .null?: return nil
        case .int(let number)?: return number
        case .uint(let number)?:
            guard let exact = Int64(exactly: number) else { throw ProtocolError("'\(key)' is out of range") }
            return exact
        case .double(let number)?:
            guard let exact = Int64(exactly: number) else { throw ProtocolError("'\(key)' must be an integer") }
            return exact
        default: throw ProtocolError("'\(key)' must be an integer")
        }
    }

    /// The boolean member `key`: `nil` when absent or `null`, an error when of another type.
    func boolean(_ key: String) throws(ProtocolError) -> Bool? {
        switch self[.string(key)] {
        case nil, .null?: return nil
        case .bool(let flag)?: return flag
        default: throw ProtocolError("'\(key)' must be true or false")
        }
    }

    /// Sets `key` to `value` unless `value` is `nil`, keeping optional fields out of the JSON.
    mutating func setIfPresent(_ key: String, _ value: Value?) {
        if let value { self[.string(key)] = value }
    }
}
