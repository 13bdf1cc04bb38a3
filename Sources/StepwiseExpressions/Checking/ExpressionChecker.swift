/// Finds problems in an expression without running it: unknown identifiers and functions, wrong
/// argument counts, operators applied to types they do not accept, and invalid constant arguments
/// (`duration('5x')`, a malformed regular expression), each with its position.
///
/// Types are tracked only where they are certain; anything depending on runtime data is `dyn`
/// and never reported. What this checker accepts can still fail at runtime, but what it reports
/// fails on every run that reaches it.
public struct ExpressionChecker {
    private var diagnostics: [ExpressionDiagnostic] = []

    /// All problems found in `expression`, in source order of discovery; with `expected`, also
    /// a result whose type is known to be another (a condition that is a string).
    public static func check(_ expression: CELExpression, in environment: CheckEnvironment, expecting expected: ValueType? = nil)
        -> [ExpressionDiagnostic]
    {
        var checker = ExpressionChecker()
        let type = checker.infer(expression, environment)
        if let expected, let found = type.valueType, found != expected {
            checker.report(.typeMismatch, "the expression is of type \(found.name), but \(expected.name) is needed", at: expression.offset)
        }
        return checker.diagnostics
    }

    private mutating func report(_ kind: ExpressionDiagnostic.Kind, _ message: String, at offset: Int, hint: String? = nil) {
        diagnostics.append(ExpressionDiagnostic(kind, message, offset: offset, hint: hint))
    }

    private mutating func infer(_ expression: CELExpression, _ environment: CheckEnvironment) -> CheckedType {
        switch expression.kind {
        case .literal(let literal):
            return .known(literal.value.type)
        case .identifier(let name):
            return identifier(name, at: expression.offset, environment)
        case .select(let operand, let field, let isOptional):
            let operandType = infer(operand, environment)
            requireFields(operandType, field: field, at: expression.offset)
            if isOptional { return .known(.optional) }
            if case .identifier(let name) = operand.kind, let known = environment.fieldTypes[name]?[field] { return known }
            return .dyn
        case .presenceTest(let operand, let field):
            requireFields(infer(operand, environment), field: field, at: expression.offset)
            return .known(.bool)
        case .index(let operand, let index, let isOptional):
            let containerType = infer(operand, environment)
            _ = infer(index, environment)
            if let type = containerType.valueType, ![.list, .map, .optional].contains(type) {
                report(.typeMismatch, "a value of type \(type.name) cannot be indexed with '[]'", at: expression.offset)
            }
            return isOptional ? .known(.optional) : .dyn
        case .call(let name, let arguments):
            return call(name, arguments, at: expression.offset, environment)
        case .method(let target, let name, let arguments):
            return method(target, name, arguments, at: expression.offset, environment)
        case .unary(let op, let operand):
            return unary(op, infer(operand, environment), at: expression.offset)
        case .binary(let op, let left, let right):
            return binary(op, infer(left, environment), infer(right, environment), at: expression.offset)
        case .conditional(let condition, let then, let otherwise):
            require(.bool, infer(condition, environment), "the condition of '?:'", at: condition.offset)
            let thenType = infer(then, environment)
            return thenType == infer(otherwise, environment) ? thenType : .dyn
        case .list(let elements):
            for element in elements { _ = infer(element.value, environment) }
            return .known(.list)
        case .map(let entries):
            for entry in entries {
                let keyType = infer(entry.key, environment)
                if let type = keyType.valueType, ![.bool, .int, .uint, .string].contains(type) {
                    report(.typeMismatch, "a map key must be a bool, int, uint or string, not \(type.name)", at: entry.key.offset)
                }
                _ = infer(entry.value, environment)
            }
            return .known(.map)
        case .comprehension(let comprehension):
            return self.comprehension(comprehension, environment)
        case .bind(let name, let value, let body):
            return infer(body, environment.binding([name], as: infer(value, environment)))
        case .optionalMap(let target, let variable, let body, _):
            require(.optional, infer(target, environment), "the receiver of optMap()/optFlatMap()", at: target.offset)
            _ = infer(body, environment.binding([variable]))
            return .known(.optional)
        }
    }

    private mutating func identifier(_ name: String, at offset: Int, _ environment: CheckEnvironment) -> CheckedType {
        if let type = environment.variables[name] { return type }
        if ValueType(denotation: name) != nil { return .known(.type) }
        let suggestion = SpellingSuggestion.closest(to: name, among: environment.variables.keys)
        let declared = environment.variables.keys.sorted().joined(separator: ", ")
        report(
            .unknownIdentifier, "unknown identifier '\(name)'", at: offset,
            hint: suggestion.map { "did you mean '\($0)'?" } ?? (declared.isEmpty ? nil : "in scope: \(declared)"))
        return .dyn
    }

    private mutating func requireFields(_ type: CheckedType, field: String, at offset: Int) {
        guard let known = type.valueType, ![.map, .optional].contains(known) else { return }
        report(.typeMismatch, "a value of type \(known.name) has no field '\(field)'", at: offset)
    }

    private mutating func require(_ expected: ValueType, _ actual: CheckedType, _ what: String, at offset: Int) {
        guard let known = actual.valueType, known != expected else { return }
        report(.typeMismatch, "\(what) must be a \(expected.name), not \(known.name)", at: offset)
    }

    private mutating func unary(_ op: UnaryOperator, _ operand: CheckedType, at offset: Int) -> CheckedType {
        guard let type = operand.valueType else { return op == .not ? .known(.bool) : .dyn }
        switch (op, type) {
        case (.not, .bool): return .known(.bool)
        case (.negate, .int), (.negate, .double), (.negate, .duration): return .known(type)
        default:
            report(.typeMismatch, "'\(op.rawValue)' cannot be applied to a \(type.name)", at: offset)
            return .dyn
        }
    }

    /// Types binary operators by applying the real operator to sample values of the operand
    /// types, so the checker cannot drift from the evaluator.
    private mutating func binary(_ op: BinaryOperator, _ left: CheckedType, _ right: CheckedType, at offset: Int) -> CheckedType {
        switch op {
        case .equal, .notEqual: return .known(.bool)
        case .and, .or:
            require(.bool, left, "the left operand of '\(op.rawValue)'", at: offset)
            require(.bool, right, "the right operand of '\(op.rawValue)'", at: offset)
            return .known(.bool)
        case .in:
            if let container = right.valueType, ![.list, .map].contains(container) {
                report(.typeMismatch, "'in' needs a list or map on its right, not \(container.name)", at: offset)
            }
            return .known(.bool)
        default:
            guard let lhs = left.valueType, let rhs = right.valueType else {
                return [.less, .lessOrEqual, .greater, .greaterOrEqual].contains(op) ? .known(.bool) : .dyn
            }
            let result = SampleValues.apply(op, lhs, rhs)
            guard let result else {
                report(.typeMismatch, "'\(op.rawValue)' is not defined for \(lhs.name) and \(rhs.name)", at: offset,
                       hint: SampleValues.conversionHint(lhs, rhs))
                return .dyn
            }
            return .known(result)
        }
    }

    private mutating func arguments(_ arguments: [CELExpression], _ environment: CheckEnvironment) -> [CheckedType] {
        arguments.map { infer($0, environment) }
    }

    private mutating func call(_ name: String, _ arguments: [CELExpression], at offset: Int, _ environment: CheckEnvironment) -> CheckedType {
        let types = self.arguments(arguments, environment)
        guard let function = FunctionLibrary.globals[name] else {
            let hint = FunctionLibrary.methods[name] != nil
                ? "'\(name)' is a method: write value.\(name)(…)"
                : SpellingSuggestion.closest(to: name, among: FunctionLibrary.globals.keys).map { "did you mean '\($0)'?" }
            report(.unknownFunction, "unknown function '\(name)'", at: offset, hint: hint)
            return .dyn
        }
        checkArity(function, count: arguments.count, at: offset)
        checkConstantCall(name, arguments, at: offset)
        if let type = Self.resultTypes[name] { return .known(type) }
        return (types.first ?? .dyn).resultOf(name)
    }

    private mutating func method(
        _ target: CELExpression, _ name: String, _ arguments: [CELExpression], at offset: Int, _ environment: CheckEnvironment
    ) -> CheckedType {
        if let namespace = Self.namespace(of: target), environment.variables[namespace] == nil {
            let qualified = "\(namespace).\(name)"
            if FunctionLibrary.hasGlobal(qualified) { return call(qualified, arguments, at: offset, environment) }
            // `math.gretest(…)` is a misspelled function of a library namespace, not a method of an unknown `math`.
            if FunctionLibrary.globals.keys.contains(where: { $0.hasPrefix(namespace + ".") }) {
                _ = self.arguments(arguments, environment)
                let hint = SpellingSuggestion.closest(to: qualified, among: FunctionLibrary.globals.keys).map { "did you mean '\($0)'?" }
                report(.unknownFunction, "unknown function '\(qualified)'", at: offset, hint: hint)
                return .dyn
            }
        }
        let receiver = infer(target, environment)
        _ = self.arguments(arguments, environment)
        guard let function = FunctionLibrary.methods[name] else {
            let hint = SpellingSuggestion.closest(to: name, among: FunctionLibrary.methods.keys).map { "did you mean '\($0)'?" }
            report(.unknownFunction, "unknown method '\(name)'", at: offset, hint: hint)
            return .dyn
        }
        checkArity(function, count: arguments.count, at: offset)
        if name == "matches", arguments.count == 1 { checkPattern(arguments[0], at: offset) }
        if case .method(let receivers) = function.style, let type = receiver.valueType, !receivers.contains(type) {
            let accepted = receivers.map(\.name).sorted().joined(separator: ", ")
            report(.typeMismatch, "\(name)() is not defined on a \(type.name)", at: offset, hint: "it applies to: \(accepted)")
        }
        return Self.resultTypes[name].map(CheckedType.known) ?? .dyn
    }

    private static func namespace(of expression: CELExpression) -> String? {
        if case .identifier(let name) = expression.kind { return name }
        return nil
    }

    private mutating func checkArity(_ function: LibraryFunction, count: Int, at offset: Int) {
        guard !function.accepts(argumentCount: count) else { return }
        report(.wrongArgumentCount, "\(function.name)() takes \(function.arityDescription), got \(count)", at: offset)
    }

    /// Calls whose arguments are all literals are evaluated now: a bad duration, timestamp or
    /// regular expression in the source is reported before the workflow ever runs.
    private mutating func checkConstantCall(_ name: String, _ arguments: [CELExpression], at offset: Int) {
        if name == "matches", arguments.count == 2 { return checkPattern(arguments[1], at: offset) }
        guard ["timestamp", "duration"].contains(name),
            arguments.allSatisfy({ if case .literal = $0.kind { true } else { false } })
        else { return }
        let call = CELExpression(.call(name, arguments), at: offset)
        do {
            _ = try call.evaluate()
        } catch {
            report(.typeMismatch, error.message, at: offset)
        }
    }

    /// A literal pattern of `matches()` is compiled now: whatever the text (often `input` data),
    /// a malformed pattern fails every run.
    private mutating func checkPattern(_ pattern: CELExpression, at offset: Int) {
        guard case .literal(.string) = pattern.kind else { return }
        let call = CELExpression(.call("matches", [CELExpression(.literal(.string("")), at: offset), pattern]), at: offset)
        do {
            _ = try call.evaluate()
        } catch {
            report(.typeMismatch, error.message, at: offset)
        }
    }

    private mutating func comprehension(_ comprehension: Comprehension, _ environment: CheckEnvironment) -> CheckedType {
        let range = infer(comprehension.range, environment)
        if let type = range.valueType, ![.list, .map].contains(type) {
            report(.typeMismatch, "\(comprehension.spelling)() needs a list or a map, not a \(type.name)", at: comprehension.range.offset)
        }
        let inner = environment.binding(comprehension.variables)
        for argument in comprehension.arguments { _ = infer(argument, inner) }
        switch comprehension.macro {
        case .all, .exists, .existsOne: return .known(.bool)
        case .map, .filter, .transformList: return .known(.list)
        case .transformMap: return .known(.map)
        }
    }

    private static let resultTypes: [String: ValueType] = [
        "int": .int, "uint": .uint, "double": .double, "string": .string, "bytes": .bytes, "bool": .bool,
        "timestamp": .timestamp, "duration": .duration, "type": .type, "size": .int, "matches": .bool,
        "contains": .bool, "startsWith": .bool, "endsWith": .bool, "charAt": .string, "indexOf": .int,
        "lastIndexOf": .int, "lowerAscii": .string, "upperAscii": .string, "replace": .string, "split": .list,
        "substring": .string, "trim": .string, "join": .string, "reverse": .string, "format": .string,
        "strings.quote": .string, "base64.encode": .string, "base64.decode": .bytes, "hasValue": .bool,
        "optional.of": .optional, "optional.none": .optional, "optional.ofNonZeroValue": .optional, "or": .optional,
        "getFullYear": .int, "getMonth": .int, "getDayOfYear": .int, "getDayOfMonth": .int, "getDate": .int,
        "getDayOfWeek": .int, "getHours": .int, "getMinutes": .int, "getSeconds": .int, "getMilliseconds": .int,
        "math.ceil": .double, "math.floor": .double, "math.round": .double, "math.trunc": .double, "math.sqrt": .double,
        "math.isNaN": .bool, "math.isInf": .bool, "math.isFinite": .bool,
    ]
}

extension CheckedType {
    /// Functions whose result has the type of their first argument (`math.abs`, `dyn`, …) or is unknown.
    fileprivate func resultOf(_ name: String) -> CheckedType {
        ["math.abs", "math.sign", "math.bitNot", "math.bitAnd", "math.bitOr", "math.bitXor",
         "math.bitShiftLeft", "math.bitShiftRight"].contains(name) ? self : .dyn
    }
}
