/// CEL's type conversions: `int`, `uint`, `double`, `string`, `bytes`, `bool`, `type`, `dyn`,
/// `timestamp`, `duration`. Out-of-range and unparsable inputs are errors, never wrapped values.
enum Conversions {
    static let functions: [LibraryFunction] = [
        LibraryFunction("int", .global, arguments: 1...1) { call throws(EvaluationError) in try int(call[0], call) },
        LibraryFunction("uint", .global, arguments: 1...1) { call throws(EvaluationError) in try uint(call[0], call) },
        LibraryFunction("double", .global, arguments: 1...1) { call throws(EvaluationError) in try double(call[0], call) },
        LibraryFunction("string", .global, arguments: 1...1) { call throws(EvaluationError) in try string(call[0], call) },
        LibraryFunction("bytes", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .bytes: return call[0]
            case .string(let s): return .bytes(Array(s.utf8))
            default: throw call.noOverload
            }
        },
        LibraryFunction("bool", .global, arguments: 1...1) { call throws(EvaluationError) in try bool(call[0], call) },
        LibraryFunction("type", .global, arguments: 1...1) { call in .type(call[0].type) },
        LibraryFunction("dyn", .global, arguments: 1...1) { call in call[0] },
        LibraryFunction("timestamp", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .timestamp: return call[0]
            case .string(let s): return .timestamp(try TimestampValue(parsing: s))
            case .int(let seconds): return .timestamp(try TimestampValue(secondsSinceEpoch: seconds))
            default: throw call.noOverload
            }
        },
        LibraryFunction("duration", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .duration: return call[0]
            case .string(let s): return .duration(try DurationValue(parsing: s))
            default: throw call.noOverload
            }
        },
    ]

    /// The largest magnitude a double may have to convert to a 64-bit integer type.
    private static let twoToThe63 = 9_223_372_036_854_775_808.0
    private static let twoToThe64 = 18_446_744_073_709_551_616.0

    static func int(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .int: return value
        case .uint(let u):
            guard let i = Int64(exactly: u) else { throw EvaluationError("int() range error: \(u) does not fit in int") }
            return .int(i)
        case .double(let d):
            // CEL treats both ends as out of range, since -2^63 and 2^63 round to the same magnitude.
            guard d.isFinite, d > -twoToThe63, d < twoToThe63 else { throw EvaluationError("int() range error: \(d) does not fit in int") }
            return .int(Int64(d.rounded(.towardZero)))
        case .string(let s):
            guard let i = Int64(s) else { throw EvaluationError("int() cannot convert '\(s)': not a decimal integer in range") }
            return .int(i)
        case .timestamp(let t): return .int(t.secondsSinceEpoch)
        case .duration(let d):
            guard let nanoseconds = Int64(exactly: d.nanoseconds) else { throw EvaluationError("int() range error for duration") }
            return .int(nanoseconds)
        default: throw call.noOverload
        }
    }

    static func uint(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .uint: return value
        case .int(let i):
            guard let u = UInt64(exactly: i) else { throw EvaluationError("uint() range error: \(i) is negative") }
            return .uint(u)
        case .double(let d):
            guard d.isFinite, d > -1, d < twoToThe64 else { throw EvaluationError("uint() range error: \(d) does not fit in uint") }
            return .uint(UInt64(d.rounded(.towardZero)))
        case .string(let s):
            guard let u = UInt64(s) else { throw EvaluationError("uint() cannot convert '\(s)': not a decimal unsigned integer in range") }
            return .uint(u)
        default: throw call.noOverload
        }
    }

    static func double(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .double: return value
        case .int(let i): return .double(Double(i))
        case .uint(let u): return .double(Double(u))
        case .string(let s):
            guard let d = Double(s), !s.contains(where: \.isWhitespace) else {
                throw EvaluationError("double() cannot convert '\(s)': not a number")
            }
            return .double(d)
        default: throw call.noOverload
        }
    }

    static func string(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .string: return value
        case .int(let i): return .string(String(i))
        case .uint(let u): return .string(String(u))
        case .double(let d): return .string(DoubleFormatting.shortest(d))
        case .bool(let b): return .string(b ? "true" : "false")
        case .bytes(let b):
            guard let text = String(validating: b, as: UTF8.self) else {
                throw EvaluationError("string() cannot convert bytes that are not valid UTF-8")
            }
            return .string(text)
        case .timestamp(let t): return .string(t.description)
        case .duration(let d): return .string(d.description)
        default: throw call.noOverload
        }
    }

    static func bool(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .bool: return value
        case .string(let s):
            switch s {
            case "1", "t", "true", "TRUE", "True": return .bool(true)
            case "0", "f", "false", "FALSE", "False": return .bool(false)
            default: throw EvaluationError("bool() cannot convert '\(s)'; use true/false, t/f or 1/0")
            }
        default: throw call.noOverload
        }
    }
}
