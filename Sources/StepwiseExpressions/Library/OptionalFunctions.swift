/// CEL's optional values: `optional.of`, `optional.ofNonZeroValue`, `optional.none`, and the
/// methods `hasValue`, `value`, `or`, `orValue`.
enum OptionalFunctions {
    static let functions: [LibraryFunction] = [
        LibraryFunction("optional.of", .global, arguments: 1...1) { call in .optional(call[0]) },
        LibraryFunction("optional.ofNonZeroValue", .global, arguments: 1...1) { call in
            .optional(call[0].isZeroValue ? nil : call[0])
        },
        LibraryFunction("optional.none", .global, arguments: 0...0) { _ in .optional(nil) },
        method("hasValue", 0...0) { _, wrapped in .bool(wrapped != nil) },
        method("value", 0...0) { _, wrapped throws(EvaluationError) in
            guard let wrapped else { throw EvaluationError("value() called on optional.none()") }
            return wrapped
        },
        method("or", 1...1) { call, wrapped throws(EvaluationError) in
            guard case .optional = call[0] else { throw call.noOverload }
            return wrapped.map { .optional($0) } ?? call[0]
        },
        method("orValue", 1...1) { call, wrapped in wrapped ?? call[0] },
    ]

    private static func method(
        _ name: String, _ arguments: ClosedRange<Int>,
        _ body: @escaping @Sendable (Invocation, Value?) throws(EvaluationError) -> Value
    ) -> LibraryFunction {
        LibraryFunction(name, .method(receivers: [.optional]), arguments: arguments) { call throws(EvaluationError) in
            guard case .optional(let wrapped) = call.target else { throw call.noOverload }
            return try body(call, wrapped)
        }
    }
}

extension Value {
    /// Whether this is the zero value of its type (`0`, `''`, `[]`, `{}`, `false`, `null`, …).
    var isZeroValue: Bool {
        switch self {
        case .null: true
        case .bool(let b): !b
        case .int(let i): i == 0
        case .uint(let u): u == 0
        case .double(let d): d == 0
        case .string(let s): s.isEmpty
        case .bytes(let b): b.isEmpty
        case .list(let l): l.isEmpty
        case .map(let m): m.isEmpty
        case .timestamp(let t): t.nanosecondsSinceEpoch == 0
        case .duration(let d): d.nanoseconds == 0
        case .type: false
        case .optional(let wrapped): wrapped == nil
        }
    }
}
