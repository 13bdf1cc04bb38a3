/// CEL's standard functions on strings and collections: `size`, `contains`, `startsWith`,
/// `endsWith`, `matches`.
enum StandardFunctions {
    static let functions: [LibraryFunction] = [
        LibraryFunction("size", .global, arguments: 1...1) { call throws(EvaluationError) in try size(call[0], call) },
        LibraryFunction("size", .method(receivers: [.string, .bytes, .list, .map]), arguments: 0...0) { call throws(EvaluationError) in
            try size(call.target, call)
        },
        LibraryFunction("matches", .global, arguments: 2...2) { call throws(EvaluationError) in
            try matches(call.string(call[0]), call.string(call[1]), call)
        },
        LibraryFunction("matches", .method(receivers: [.string]), arguments: 1...1) { call throws(EvaluationError) in
            try matches(call.string(call.target), call.string(call[0]), call)
        },
        LibraryFunction("contains", .method(receivers: [.string]), arguments: 1...1) { call throws(EvaluationError) in
            let (text, part) = try (call.string(call.target), call.string(call[0]))
            return .bool(part.isEmpty || text.utf8.firstRange(of: part.utf8) != nil)
        },
        LibraryFunction("startsWith", .method(receivers: [.string]), arguments: 1...1) { call throws(EvaluationError) in
            try .bool(call.string(call.target).utf8.starts(with: call.string(call[0]).utf8))
        },
        LibraryFunction("endsWith", .method(receivers: [.string]), arguments: 1...1) { call throws(EvaluationError) in
            try .bool(call.string(call.target).utf8.reversed().starts(with: call.string(call[0]).utf8.reversed()))
        },
    ]

    private static func size(_ value: Value, _ call: Invocation) throws(EvaluationError) -> Value {
        switch value {
        case .string(let s): .int(Int64(s.unicodeScalars.count))
        case .bytes(let b): .int(Int64(b.count))
        case .list(let l): .int(Int64(l.count))
        case .map(let m): .int(Int64(m.count))
        default: throw call.noOverload
        }
    }

    private static func matches(_ text: String, _ pattern: String, _ call: Invocation) throws(EvaluationError) -> Value {
        let expression: RegularExpression
        do {
            expression = try RegularExpression(pattern)
        } catch {
            throw EvaluationError("invalid regular expression '\(pattern)': \(error.message) at offset \(error.offset)")
        }
        // Matching is linear in text × pattern; charge the budget for it.
        try call.budget.step(text.utf8.count * max(pattern.utf8.count, 1) / 64)
        return .bool(expression.containsMatch(in: text))
    }
}
