import StepwiseExpressions

/// Decodes the suite's JSON rendering of `google.api.expr.Value` (`{"int64_value": "42"}`, …).
enum ProtoValue {
    static func decode(_ json: Value, context: String) throws -> Value {
        guard case .map(let map) = json, map.count == 1, let key = map.keys.first, let payload = map.values.first else {
            throw ConformanceSuite.LoadError(description: "\(context): a value must have exactly one field")
        }
        let fail = ConformanceSuite.LoadError(description: "\(context): cannot decode \(key.text) \(payload.jsonText())")
        switch (key.text, payload) {
        case ("null_value", _): return .null
        case ("bool_value", .bool(let b)): return .bool(b)
        case ("int64_value", .string(let s)): guard let i = Int64(s) else { throw fail }; return .int(i)
        case ("int64_value", .int(let i)): return .int(i)
        case ("uint64_value", .string(let s)): guard let u = UInt64(s) else { throw fail }; return .uint(u)
        case ("double_value", .string(let s)): return .double(s == "NaN" ? .nan : (s == "-Infinity" ? -.infinity : .infinity))
        case ("double_value", .double(let d)): return .double(d)
        case ("double_value", .int(let i)): return .double(Double(i))
        case ("string_value", .string(let s)): return .string(s)
        case ("bytes_value", .string(let s)):
            guard case .bytes(let bytes) = try Parser.parse("base64.decode('\(s)')").evaluate() else { throw fail }
            return .bytes(bytes)
        case ("type_value", .string(let s)):
            guard let type = ValueType(denotation: s) else { throw fail }
            return .type(type)
        case ("list_value", .map(let list)):
            guard case .list(let values) = list[.string("values")] ?? .list([]) else { throw fail }
            return .list(try values.map { try decode($0, context: context) })
        case ("map_value", .map(let mapValue)):
            guard case .list(let entries) = mapValue[.string("entries")] ?? .list([]) else { throw fail }
            var result = ValueMap()
            for entry in entries {
                guard let keyJSON = entry["key"], let valueJSON = entry["value"],
                    let mapKey = MapKey(try decode(keyJSON, context: context))
                else { throw fail }
                result[mapKey] = try decode(valueJSON, context: context)
            }
            return .map(result)
        default: throw fail
        }
    }
}
