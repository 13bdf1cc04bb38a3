/// CEL's strings extension: `charAt`, `indexOf`, `lastIndexOf`, `lowerAscii`, `upperAscii`,
/// `replace`, `split`, `substring`, `trim`, `join`, `reverse`, `format` and `strings.quote`.
/// Positions count Unicode code points, as in every CEL implementation.
enum StringFunctions {
    static let functions: [LibraryFunction] = [
        method("charAt", 1...1) { call, scalars throws(EvaluationError) in
            let position = try call.int(call[0])
            guard position >= 0, position <= scalars.count else { throw outOfRange(position, scalars) }
            return .string(position == scalars.count ? "" : String(scalars[Int(position)]))
        },
        method("indexOf", 1...2) { call, scalars throws(EvaluationError) in
            let part = Array(try call.string(call[0]).unicodeScalars)
            let start = call.arguments.count > 1 ? try call.int(call[1]) : 0
            guard start >= 0, start <= scalars.count else { throw outOfRange(start, scalars) }
            return .int(Int64(firstIndex(of: part, in: scalars, from: Int(start)) ?? -1))
        },
        method("lastIndexOf", 1...2) { call, scalars throws(EvaluationError) in
            let part = Array(try call.string(call[0]).unicodeScalars)
            let start = call.arguments.count > 1 ? try call.int(call[1]) : Int64(scalars.count)
            guard start >= 0, start <= scalars.count else { throw outOfRange(start, scalars) }
            return .int(Int64(lastIndex(of: part, in: scalars, atOrBefore: Int(start)) ?? -1))
        },
        method("lowerAscii", 0...0) { _, scalars in
            .string(String(String.UnicodeScalarView(scalars.map { ("A"..."Z").contains($0) ? Unicode.Scalar($0.value + 32) ?? $0 : $0 })))
        },
        method("upperAscii", 0...0) { _, scalars in
            .string(String(String.UnicodeScalarView(scalars.map { ("a"..."z").contains($0) ? Unicode.Scalar($0.value - 32) ?? $0 : $0 })))
        },
        method("replace", 2...3) { call, scalars throws(EvaluationError) in
            let old = Array(try call.string(call[0]).unicodeScalars)
            let new = Array(try call.string(call[1]).unicodeScalars)
            let limit = call.arguments.count > 2 ? try call.int(call[2]) : -1
            return .string(try replace(old, with: new, in: scalars, limit: limit, budget: call.budget))
        },
        method("split", 1...2) { call, scalars throws(EvaluationError) in
            let separator = Array(try call.string(call[0]).unicodeScalars)
            let limit = call.arguments.count > 1 ? try call.int(call[1]) : -1
            return .list(split(scalars, by: separator, limit: limit).map { .string(String(String.UnicodeScalarView($0))) })
        },
        method("substring", 1...2) { call, scalars throws(EvaluationError) in
            let start = try call.int(call[0])
            let end = call.arguments.count > 1 ? try call.int(call[1]) : Int64(scalars.count)
            guard start >= 0, start <= scalars.count else { throw outOfRange(start, scalars) }
            guard end >= start, end <= scalars.count else {
                throw EvaluationError("substring(\(start), \(end)): end must be between \(start) and \(scalars.count)")
            }
            return .string(String(String.UnicodeScalarView(scalars[Int(start)..<Int(end)])))
        },
        method("trim", 0...0) { _, scalars in
            guard let first = scalars.firstIndex(where: { !$0.isCELWhitespace }),
                let last = scalars.lastIndex(where: { !$0.isCELWhitespace })
            else { return .string("") }
            return .string(String(String.UnicodeScalarView(scalars[first...last])))
        },
        method("reverse", 0...0) { _, scalars in .string(String(String.UnicodeScalarView(scalars.reversed()))) },
        method("format", 1...1) { call, _ throws(EvaluationError) in
            guard case .list(let arguments) = call[0] else { throw call.noOverload }
            for argument in arguments { try call.budget.reserveText(of: argument) }
            var formatter = StringFormatter(template: try call.string(call.target), arguments: arguments)
            return .string(try formatter.format())
        },
        LibraryFunction("join", .method(receivers: [.list]), arguments: 0...1) { call throws(EvaluationError) in
            guard case .list(let elements) = call.target else { throw call.noOverload }
            let separator = call.arguments.isEmpty ? "" : try call.string(call[0])
            var parts: [String] = []
            for element in elements {
                guard case .string(let s) = element else {
                    throw EvaluationError("join() needs a list of strings, found a \(element.type.name)")
                }
                parts.append(s)
            }
            try call.budget.allocate(parts.reduce(0) { $0 + $1.utf8.count } + separator.utf8.count * parts.count)
            return .string(parts.joined(separator: separator))
        },
        LibraryFunction("strings.quote", .global, arguments: 1...1) { call throws(EvaluationError) in
            .string(StringEscaping.quoted(try call.string(call[0]), style: .celQuote))
        },
    ]

    /// A string method whose receiver is decoded to code points once.
    private static func method(
        _ name: String, _ arguments: ClosedRange<Int>,
        _ body: @escaping @Sendable (Invocation, [Unicode.Scalar]) throws(EvaluationError) -> Value
    ) -> LibraryFunction {
        LibraryFunction(name, .method(receivers: [.string]), arguments: arguments) { call throws(EvaluationError) in
            let scalars = Array(try call.string(call.target).unicodeScalars)
            try call.budget.step(scalars.count / 64)
            return try body(call, scalars)
        }
    }

    private static func outOfRange(_ position: Int64, _ scalars: [Unicode.Scalar]) -> EvaluationError {
        EvaluationError("index \(position) out of range for a string of length \(scalars.count)")
    }

    private static func matches(_ part: [Unicode.Scalar], in scalars: [Unicode.Scalar], at position: Int) -> Bool {
        position + part.count <= scalars.count && scalars[position..<position + part.count].elementsEqual(part)
    }

    private static func firstIndex(of part: [Unicode.Scalar], in scalars: [Unicode.Scalar], from start: Int) -> Int? {
        guard start + part.count <= scalars.count else { return nil }
        return (start...(scalars.count - part.count)).first { matches(part, in: scalars, at: $0) }
    }

    private static func lastIndex(of part: [Unicode.Scalar], in scalars: [Unicode.Scalar], atOrBefore start: Int) -> Int? {
        let latest = min(start, scalars.count - part.count)
        guard latest >= 0 else { return nil }
        return (0...latest).reversed().first { matches(part, in: scalars, at: $0) }
    }

    /// Go's `strings.Replace`: at most `limit` replacements (all when negative); an empty `old`
    /// matches before every code point and at the end.
    private static func replace(
        _ old: [Unicode.Scalar], with new: [Unicode.Scalar], in scalars: [Unicode.Scalar], limit: Int64,
        budget: EvaluationBudget
    ) throws(EvaluationError) -> String {
        // An array, not a String.UnicodeScalarView: the view's append(contentsOf:) does not grow
        // geometrically, which made large replacements quadratic (minutes for a few megabytes).
        var result: [Unicode.Scalar] = []
        var position = 0
        var replaced: Int64 = 0
        while position <= scalars.count {
            let canReplace = limit < 0 || replaced < limit
            if canReplace, matches(old, in: scalars, at: position) {
                try budget.allocate(new.count)
                result.append(contentsOf: new)
                replaced += 1
                if old.isEmpty {
                    if position < scalars.count { result.append(scalars[position]) }
                    position += 1
                } else {
                    position += old.count
                }
                continue
            }
            if position < scalars.count { result.append(scalars[position]) }
            position += 1
        }
        return String(String.UnicodeScalarView(result))
    }

    /// Go's `strings.SplitN`: `limit` 0 gives no parts, a negative limit all parts, an empty
    /// separator splits into code points.
    private static func split(_ scalars: [Unicode.Scalar], by separator: [Unicode.Scalar], limit: Int64) -> [[Unicode.Scalar]] {
        guard limit != 0 else { return [] }
        var parts: [[Unicode.Scalar]] = []
        var start = 0
        var position = 0
        let atLimit = { (parts: [[Unicode.Scalar]]) in limit > 0 && Int64(parts.count) == limit - 1 }
        if separator.isEmpty {
            while position < scalars.count, !atLimit(parts) {
                parts.append([scalars[position]])
                position += 1
            }
            if position < scalars.count { parts.append(Array(scalars[position...])) }
            return parts
        }
        while position + separator.count <= scalars.count, !atLimit(parts) {
            if matches(separator, in: scalars, at: position) {
                parts.append(Array(scalars[start..<position]))
                position += separator.count
                start = position
            } else {
                position += 1
            }
        }
        parts.append(Array(scalars[start...]))
        return parts
    }
}

extension Unicode.Scalar {
    /// White space as Go's `unicode.IsSpace` defines it, which CEL's `trim` follows.
    var isCELWhitespace: Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
