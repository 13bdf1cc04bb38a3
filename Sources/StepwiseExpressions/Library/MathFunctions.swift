/// CEL's math extension: `math.greatest`, `math.least`, rounding, `abs`, `sign`, the
/// floating-point classifiers and the bitwise operations.
enum MathFunctions {
    static let functions: [LibraryFunction] = [
        LibraryFunction(variadic: "math.greatest", atLeast: 1) { call throws(EvaluationError) in
            try extreme(call, keepsCandidate: .greater)
        },
        LibraryFunction(variadic: "math.least", atLeast: 1) { call throws(EvaluationError) in
            try extreme(call, keepsCandidate: .less)
        },
        rounding("math.ceil") { $0.rounded(.up) },
        rounding("math.floor") { $0.rounded(.down) },
        rounding("math.round") { $0.rounded(.toNearestOrAwayFromZero) },
        rounding("math.trunc") { $0.rounded(.towardZero) },
        // Unlike the rounding functions, CEL's square root takes integers too, and answers a double.
        LibraryFunction("math.sqrt", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .int(let i): return .double(Double(i).squareRoot())
            case .uint(let u): return .double(Double(u).squareRoot())
            default: return .double(try call.double(call[0]).squareRoot())
            }
        },
        LibraryFunction("math.abs", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .int(let i):
                guard i != .min else { throw EvaluationError("integer overflow in math.abs(\(i))") }
                return .int(abs(i))
            case .uint: return call[0]
            case .double(let d): return .double(abs(d))
            default: throw call.noOverload
            }
        },
        LibraryFunction("math.sign", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .int(let i): return .int(i.signum())
            case .uint(let u): return .uint(u == 0 ? 0 : 1)
            case .double(let d): return .double(d.isNaN || d == 0 ? d : (d > 0 ? 1 : -1))
            default: throw call.noOverload
            }
        },
        classifier("math.isNaN") { $0.isNaN },
        classifier("math.isInf") { $0.isInfinite },
        classifier("math.isFinite") { $0.isFinite },
        bitwise("math.bitAnd", &, &),
        bitwise("math.bitOr", |, |),
        bitwise("math.bitXor", ^, ^),
        LibraryFunction("math.bitNot", .global, arguments: 1...1) { call throws(EvaluationError) in
            switch call[0] {
            case .int(let i): return .int(~i)
            case .uint(let u): return .uint(~u)
            default: throw call.noOverload
            }
        },
        shift("math.bitShiftLeft", left: true),
        shift("math.bitShiftRight", left: false),
    ]

    /// The greatest or least of the arguments (or of a single list argument), compared across
    /// numeric types; the winner keeps its own type.
    private static func extreme(_ call: Invocation, keepsCandidate order: Ordering) throws(EvaluationError) -> Value {
        var candidates = call.arguments
        if candidates.count == 1, case .list(let elements) = candidates[0] { candidates = elements }
        guard var best = candidates.first else { throw EvaluationError("\(call.name)() needs at least one value") }
        for candidate in candidates {
            guard candidate.isNumber else {
                throw EvaluationError("\(call.name)() takes numbers, got \(candidate.type.name)")
            }
            if NumericOrder.compare(candidate, best) == order { best = candidate }
        }
        guard best.isNumber else { throw EvaluationError("\(call.name)() takes numbers, got \(best.type.name)") }
        return best
    }

    private static func rounding(_ name: String, _ operation: @escaping @Sendable (Double) -> Double) -> LibraryFunction {
        LibraryFunction(name, .global, arguments: 1...1) { call throws(EvaluationError) in
            .double(operation(try call.double(call[0])))
        }
    }

    private static func classifier(_ name: String, _ test: @escaping @Sendable (Double) -> Bool) -> LibraryFunction {
        LibraryFunction(name, .global, arguments: 1...1) { call throws(EvaluationError) in
            .bool(test(try call.double(call[0])))
        }
    }

    private static func bitwise(
        _ name: String, _ signed: @escaping @Sendable (Int64, Int64) -> Int64,
        _ unsigned: @escaping @Sendable (UInt64, UInt64) -> UInt64
    ) -> LibraryFunction {
        LibraryFunction(name, .global, arguments: 2...2) { call throws(EvaluationError) in
            switch (call[0], call[1]) {
            case let (.int(a), .int(b)): return .int(signed(a, b))
            case let (.uint(a), .uint(b)): return .uint(unsigned(a, b))
            default: throw call.noOverload
            }
        }
    }

    /// Shifts move bits as unsigned values (a right shift of a negative int fills with zeros);
    /// shifting by 64 or more gives 0, by a negative count is an error.
    private static func shift(_ name: String, left: Bool) -> LibraryFunction {
        LibraryFunction(name, .global, arguments: 2...2) { call throws(EvaluationError) in
            let count = try call.int(call[1])
            guard count >= 0 else { throw EvaluationError("\(name)() cannot shift by a negative count (\(count))") }
            let bits: UInt64
            switch call[0] {
            case .int(let i): bits = UInt64(bitPattern: i)
            case .uint(let u): bits = u
            default: throw call.noOverload
            }
            let shifted = count >= 64 ? 0 : (left ? bits << UInt64(count) : bits >> UInt64(count))
            if case .int = call[0] { return .int(Int64(bitPattern: shifted)) }
            return .uint(shifted)
        }
    }
}
