/// The accessors of timestamps (`getFullYear`, `getHours`, …, each with an optional time zone)
/// and durations (`getHours`, `getMinutes`, `getSeconds`, `getMilliseconds`).
enum TimeFunctions {
    static let functions: [LibraryFunction] = [
        calendar("getFullYear", \.fullYear),
        calendar("getMonth", \.month),
        calendar("getDayOfYear", \.dayOfYear),
        calendar("getDayOfMonth", \.dayOfMonth),
        calendar("getDate", \.date),
        calendar("getDayOfWeek", \.dayOfWeek),
        accessor("getHours", \.hours, \.totalHours),
        accessor("getMinutes", \.minutes, \.totalMinutes),
        accessor("getSeconds", \.seconds, \.totalSeconds),
        accessor("getMilliseconds", \.milliseconds, \.totalMilliseconds),
    ]

    private static func fields(_ call: Invocation, _ timestamp: TimestampValue) throws(EvaluationError) -> CalendarFields {
        let zone = call.arguments.isEmpty ? nil : try call.string(call[0])
        return try timestamp.fields(in: zone)
    }

    private static func calendar(_ name: String, _ field: KeyPath<CalendarFields, Int64> & Sendable) -> LibraryFunction {
        LibraryFunction(name, .method(receivers: [.timestamp]), arguments: 0...1) { call throws(EvaluationError) in
            guard case .timestamp(let timestamp) = call.target else { throw call.noOverload }
            return .int(try fields(call, timestamp)[keyPath: field])
        }
    }

    private static func accessor(
        _ name: String, _ field: KeyPath<CalendarFields, Int64> & Sendable,
        _ durationField: KeyPath<DurationValue, Int64> & Sendable
    ) -> LibraryFunction {
        LibraryFunction(name, .method(receivers: [.timestamp, .duration]), arguments: 0...1) { call throws(EvaluationError) in
            switch call.target {
            case .timestamp(let timestamp): return .int(try fields(call, timestamp)[keyPath: field])
            case .duration(let duration) where call.arguments.isEmpty: return .int(duration[keyPath: durationField])
            default: throw call.noOverload
            }
        }
    }
}
