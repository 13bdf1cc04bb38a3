/// Evaluates a `CELExpression` over variables with CEL semantics, within an `EvaluationBudget`.
///
/// Errors carry the offset of the innermost node that failed. `&&`, `||`, `all` and `exists`
/// absorb errors as the CEL specification describes, except budget errors.
struct ExpressionEvaluator {
    let budget: EvaluationBudget

    func evaluate(_ expression: CELExpression, in scope: Scope) throws(EvaluationError) -> Value {
        do {
            try budget.step()
            return try evaluateNode(expression, in: scope)
        } catch var error {
            if error.offset == nil { error.offset = expression.offset }
            throw error
        }
    }

    private func evaluateNode(_ expression: CELExpression, in scope: Scope) throws(EvaluationError) -> Value {
        switch expression.kind {
        case .literal(let literal):
            return literal.value
        case .identifier(let name):
            return try resolve(name, in: scope)
        case .select(let operand, let field, let isOptional):
            return try select(expression, operand, field, isOptional: isOptional, in: scope)
        case .presenceTest(let operand, let field):
            return try testPresence(of: field, in: evaluate(operand, in: scope))
        case .index(let operand, let index, let isOptional):
            return try self.index(evaluate(operand, in: scope), by: evaluate(index, in: scope), isOptional: isOptional)
        case .call(let name, let arguments):
            return try callGlobal(name, arguments, in: scope)
        case .method(let target, let name, let arguments):
            return try callMethod(name, on: target, arguments, in: scope)
        case .unary(let op, let operand):
            return try unary(op, evaluate(operand, in: scope))
        case .binary(let op, let left, let right):
            return try binary(op, left, right, in: scope)
        case .conditional(let condition, let then, let otherwise):
            return try conditional(condition, then, otherwise, in: scope)
        case .list(let elements):
            return try list(elements, in: scope)
        case .map(let entries):
            return try map(entries, in: scope)
        case .comprehension(let comprehension):
            return try evaluate(comprehension, in: scope)
        case .bind(let name, let value, let body):
            return try evaluate(body, in: scope.binding(name, to: evaluate(value, in: scope)))
        case .optionalMap(let target, let variable, let body, let isFlat):
            return try optionalMap(evaluate(target, in: scope), variable, body, isFlat: isFlat, in: scope)
        }
    }

    // MARK: Names

    private func resolve(_ name: String, in scope: Scope) throws(EvaluationError) -> Value {
        if let value = scope.lookup(name) { return value }
        if let type = ValueType(denotation: name) { return .type(type) }
        if name == "dyn" { throw EvaluationError("'dyn' is not a type value; use dyn(x) to convert a value") }
        throw EvaluationError("undeclared reference to '\(name)'")
    }

    /// `a.b.c` as one dotted name, when the expression is a plain chain of selections on an identifier.
    private func qualifiedName(_ expression: CELExpression) -> String? {
        switch expression.kind {
        case .identifier(let name): return name
        case .select(let operand, let field, false): return qualifiedName(operand).map { "\($0).\(field)" }
        default: return nil
        }
    }

    // MARK: Selection and indexing

    private func select(
        _ expression: CELExpression, _ operand: CELExpression, _ field: String, isOptional: Bool, in scope: Scope
    ) throws(EvaluationError) -> Value {
        if scope.hasQualifiedNames, !isOptional, let name = qualifiedName(expression), let value = scope.lookup(name) {
            return value
        }
        return try select(field, of: evaluate(operand, in: scope), isOptional: isOptional)
    }

    private func conditional(
        _ condition: CELExpression, _ then: CELExpression, _ otherwise: CELExpression, in scope: Scope
    ) throws(EvaluationError) -> Value {
        guard case .bool(let holds) = try evaluate(condition, in: scope) else {
            throw EvaluationError("the condition of '?:' must be a bool")
        }
        return try evaluate(holds ? then : otherwise, in: scope)
    }

    private func select(_ field: String, of value: Value, isOptional: Bool) throws(EvaluationError) -> Value {
        switch value {
        case .optional(.none):
            return .optional(nil)
        case .optional(.some(let wrapped)):
            return try select(field, of: wrapped, isOptional: true)
        case .map(let map):
            if isOptional { return .optional(map[.string(field)]) }
            guard let found = map[.string(field)] else { throw EvaluationError("no such key: '\(field)'") }
            return found
        default:
            throw EvaluationError("cannot select field '\(field)' of a value of type \(value.type.name)")
        }
    }

    private func testPresence(of field: String, in value: Value) throws(EvaluationError) -> Value {
        switch value {
        case .map(let map): return .bool(map[.string(field)] != nil)
        case .optional(.none): return .bool(false)
        case .optional(.some(let wrapped)): return try testPresence(of: field, in: wrapped)
        default: throw EvaluationError("has() needs a map, but '\(field)' was selected from a \(value.type.name)")
        }
    }

    private func index(_ container: Value, by key: Value, isOptional: Bool) throws(EvaluationError) -> Value {
        switch container {
        case .optional(.none):
            return .optional(nil)
        case .optional(.some(let wrapped)):
            return try index(wrapped, by: key, isOptional: true)
        case .list(let elements):
            let position = try listPosition(key)
            guard elements.indices.contains(position) else {
                if isOptional { return .optional(nil) }
                throw EvaluationError("index \(position) out of range for a list of \(elements.count) elements")
            }
            return isOptional ? .optional(elements[position]) : elements[position]
        case .map(let map):
            guard let mapKey = MapKey(key) else {
                if case .double = key, isOptional { return .optional(nil) }
                throw EvaluationError("a map cannot have a key of type \(key.type.name)")
            }
            if isOptional { return .optional(map[mapKey]) }
            guard let found = map[mapKey] else { throw EvaluationError("no such key: \(key.displayText)") }
            return found
        default:
            throw EvaluationError.noOverload("indexing '[]'", container, key)
        }
    }

    private func listPosition(_ key: Value) throws(EvaluationError) -> Int {
        switch key {
        case .int(let i): if let position = Int(exactly: i) { return position }
        case .uint(let u): if let position = Int(exactly: u) { return position }
        case .double(let d): if let position = Int(exactly: d) { return position }
        default: break
        }
        throw EvaluationError("a list index must be an integer, got \(key.type.name) \(key.displayText)")
    }

    // MARK: Operators

    private func unary(_ op: UnaryOperator, _ value: Value) throws(EvaluationError) -> Value {
        switch op {
        case .not:
            guard case .bool(let b) = value else { throw EvaluationError.noOverload("'!'", value) }
            return .bool(!b)
        case .negate:
            return try Arithmetic.negate(value)
        }
    }

    private func binary(
        _ op: BinaryOperator, _ left: CELExpression, _ right: CELExpression, in scope: Scope
    ) throws(EvaluationError) -> Value {
        if op == .and || op == .or {
            return try logical(decidingValue: op == .or, left, right, in: scope)
        }
        let lhs = try evaluate(left, in: scope)
        let rhs = try evaluate(right, in: scope)
        switch op {
        case .equal, .notEqual:
            try budget.walk(comparing: lhs, rhs)
            return .bool((lhs == rhs) == (op == .equal))
        case .less, .lessOrEqual, .greater, .greaterOrEqual: return try ValueOrdering.evaluate(op, lhs, rhs)
        case .in: return try contains(rhs, lhs)
        default: return try Arithmetic.evaluate(op, lhs, rhs, budget: budget)
        }
    }

    /// `&&` (deciding value false) and `||` (deciding value true), commutative over errors:
    /// either side that yields the deciding value decides, even if the other side fails.
    private func logical(
        decidingValue: Bool, _ left: CELExpression, _ right: CELExpression, in scope: Scope
    ) throws(EvaluationError) -> Value {
        let lhs = try absorbing { () throws(EvaluationError) in try evaluate(left, in: scope) }
        if case .success(.bool(decidingValue)) = lhs { return .bool(decidingValue) }
        let rhs = try absorbing { () throws(EvaluationError) in try evaluate(right, in: scope) }
        if case .success(.bool(decidingValue)) = rhs { return .bool(decidingValue) }
        let name = decidingValue ? "'||'" : "'&&'"
        switch (lhs, rhs) {
        case (.failure(let error), _), (_, .failure(let error)): throw error
        case (.success(.bool), .success(.bool)): return .bool(!decidingValue)
        case (.success(let a), .success(let b)): throw EvaluationError.noOverload(name, a, b)
        }
    }

    /// Runs `body`, turning an ordinary error into a result; budget errors still propagate.
    func absorbing(_ body: () throws(EvaluationError) -> Value) throws(EvaluationError) -> Result<Value, EvaluationError> {
        do {
            return .success(try body())
        } catch {
            if error.kind == .budgetExceeded { throw error }
            return .failure(error)
        }
    }

    private func contains(_ container: Value, _ element: Value) throws(EvaluationError) -> Value {
        switch container {
        case .list(let elements):
            try budget.step(elements.count / 8)
            for item in elements { try budget.walk(comparing: item, element) }
            return .bool(elements.contains { $0 == element })
        case .map(let map):
            guard let key = MapKey(element) else { return .bool(false) }
            return .bool(map[key] != nil)
        default:
            throw EvaluationError.noOverload("'in'", element, container)
        }
    }

    // MARK: Literals

    private func list(_ elements: [ListElement], in scope: Scope) throws(EvaluationError) -> Value {
        var values: [Value] = []
        values.reserveCapacity(elements.count)
        for element in elements {
            let value = try evaluate(element.value, in: scope)
            guard element.isOptional else {
                values.append(value)
                continue
            }
            guard case .optional(let wrapped) = value else {
                throw EvaluationError("an optional list element '?' needs an optional value, got \(value.type.name)")
            }
            if let wrapped { values.append(wrapped) }
        }
        try budget.allocate(values.count * 16)
        return .list(values)
    }

    private func map(_ entries: [MapEntry], in scope: Scope) throws(EvaluationError) -> Value {
        var map = ValueMap()
        for entry in entries {
            let keyValue = try evaluate(entry.key, in: scope)
            guard let key = MapKey(keyValue), !keyValue.isDouble else {
                throw EvaluationError("a map key must be a bool, int, uint or string, got \(keyValue.type.name)")
            }
            var value = try evaluate(entry.value, in: scope)
            if entry.isOptional {
                guard case .optional(let wrapped) = value else {
                    throw EvaluationError("an optional map entry '?' needs an optional value, got \(value.type.name)")
                }
                guard let wrapped else { continue }
                value = wrapped
            }
            guard map.insert(value, forKey: key) else {
                throw EvaluationError("duplicate map key \(keyValue.displayText)")
            }
        }
        try budget.allocate(map.count * 48)
        return .map(map)
    }

    // MARK: Calls

    private func callGlobal(_ name: String, _ arguments: [CELExpression], in scope: Scope) throws(EvaluationError) -> Value {
        var values: [Value] = []
        for argument in arguments { values.append(try evaluate(argument, in: scope)) }
        return try FunctionLibrary.callGlobal(name, values, budget: budget)
    }

    private func callMethod(
        _ name: String, on target: CELExpression, _ arguments: [CELExpression], in scope: Scope
    ) throws(EvaluationError) -> Value {
        // `math.greatest(…)` is a namespaced global function unless `math` is a variable.
        if let namespace = qualifiedName(target), scope.lookup(namespace) == nil,
            FunctionLibrary.hasGlobal("\(namespace).\(name)")
        {
            return try callGlobal("\(namespace).\(name)", arguments, in: scope)
        }
        let receiver = try evaluate(target, in: scope)
        var values: [Value] = []
        for argument in arguments { values.append(try evaluate(argument, in: scope)) }
        return try FunctionLibrary.callMethod(name, on: receiver, values, budget: budget)
    }

    private func optionalMap(
        _ target: Value, _ variable: String, _ body: CELExpression, isFlat: Bool, in scope: Scope
    ) throws(EvaluationError) -> Value {
        guard case .optional(let wrapped) = target else {
            throw EvaluationError("\(isFlat ? "optFlatMap" : "optMap")() needs an optional value, got \(target.type.name)")
        }
        guard let wrapped else { return .optional(nil) }
        let result = try evaluate(body, in: scope.binding(variable, to: wrapped))
        guard isFlat else { return .optional(result) }
        guard case .optional = result else {
            throw EvaluationError("optFlatMap() needs its expression to give an optional, got \(result.type.name)")
        }
        return result
    }
}

extension Value {
    var isDouble: Bool {
        if case .double = self { return true }
        return false
    }

    /// The value as it appears in messages: strings quoted, others as JSON; a large one by its
    /// type, since an error message must not grow with a value that may share its parts.
    var displayText: String {
        if case .string(let s) = self { return s.utf8.count > 200 ? "a long string" : "'\(s)'" }
        if isWritten(largerThan: 200) { return "a large \(type.name)" }
        return jsonText()
    }
}
