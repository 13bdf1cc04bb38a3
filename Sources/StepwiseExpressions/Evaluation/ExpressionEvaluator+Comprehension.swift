/// The iterating macros: `all`, `exists`, `exists_one`, `map`, `filter`, `transformList`, `transformMap`.
extension ExpressionEvaluator {
    /// One iteration's variables: for lists the element (one variable) or index and element;
    /// for maps the key (one variable) or key and value.
    private struct Iteration {
        let first: Value
        let second: Value
    }

    func evaluate(_ comprehension: Comprehension, in scope: Scope) throws(EvaluationError) -> Value {
        let range = try evaluate(comprehension.range, in: scope)
        let iterations = try self.iterations(of: range, for: comprehension)
        let variables = comprehension.variables
        var scopes: [Scope] = []
        scopes.reserveCapacity(iterations.count)
        for iteration in iterations {
            if variables.count == 2 {
                scopes.append(scope.binding(variables[0], to: iteration.first, variables[1], to: iteration.second))
            } else {
                scopes.append(scope.binding(variables[0], to: iteration.first))
            }
        }
        switch comprehension.macro {
        case .all: return try quantify(scopes, comprehension.arguments[0], decidingValue: false)
        case .exists: return try quantify(scopes, comprehension.arguments[0], decidingValue: true)
        case .existsOne: return try existsOne(scopes, comprehension.arguments[0])
        case .filter: return try transform(scopes, filter: comprehension.arguments[0], transform: nil)
        case .map, .transformList:
            let arguments = comprehension.arguments
            return try transform(scopes, filter: arguments.count == 2 ? arguments[0] : nil, transform: arguments[arguments.count - 1])
        case .transformMap:
            return try transformMap(iterations, scopes, comprehension.arguments)
        }
    }

    private func iterations(of range: Value, for comprehension: Comprehension) throws(EvaluationError) -> [Iteration] {
        let twoVariables = comprehension.variables.count == 2
        switch range {
        case .list(let elements):
            return elements.enumerated().map { position, element in
                twoVariables ? Iteration(first: .int(Int64(position)), second: element) : Iteration(first: element, second: .null)
            }
        case .map(let map):
            return map.entries.map { key, value in Iteration(first: key.value, second: value) }
        default:
            throw EvaluationError("\(comprehension.spelling)() needs a list or a map, got \(range.type.name)")
        }
    }

    /// `all` (deciding value false) and `exists` (deciding value true): a deciding predicate result
    /// wins over errors from other elements; otherwise the first error is reported.
    private func quantify(_ scopes: [Scope], _ predicate: CELExpression, decidingValue: Bool) throws(EvaluationError) -> Value {
        var firstError: EvaluationError?
        for scope in scopes {
            try budget.step()
            let result = try absorbing { () throws(EvaluationError) in try evaluate(predicate, in: scope) }
            switch result {
            case .success(.bool(decidingValue)): return .bool(decidingValue)
            case .success(.bool): continue
            case .success(let other):
                firstError = firstError ?? EvaluationError("the predicate must give a bool, got \(other.type.name)", offset: predicate.offset)
            case .failure(let error): firstError = firstError ?? error
            }
        }
        if let firstError { throw firstError }
        return .bool(!decidingValue)
    }

    private func existsOne(_ scopes: [Scope], _ predicate: CELExpression) throws(EvaluationError) -> Value {
        var count = 0
        for scope in scopes {
            try budget.step()
            guard case .bool(let holds) = try evaluate(predicate, in: scope) else {
                throw EvaluationError("the predicate of exists_one() must give a bool", offset: predicate.offset)
            }
            if holds { count += 1 }
        }
        return .bool(count == 1)
    }

    private func passes(_ filter: CELExpression?, in scope: Scope) throws(EvaluationError) -> Bool {
        guard let filter else { return true }
        guard case .bool(let keep) = try evaluate(filter, in: scope) else {
            throw EvaluationError("the filter must give a bool", offset: filter.offset)
        }
        return keep
    }

    /// `filter` (no transform: keeps the first variable) and `map`/`transformList`.
    private func transform(_ scopes: [Scope], filter: CELExpression?, transform: CELExpression?) throws(EvaluationError) -> Value {
        var results: [Value] = []
        for scope in scopes {
            try budget.step()
            guard try passes(filter, in: scope) else { continue }
            if let transform {
                results.append(try evaluate(transform, in: scope))
            } else if let element = scope.firstLocal {
                results.append(element)
            }
        }
        try budget.allocate(results.count * 16)
        return .list(results)
    }

    private func transformMap(_ iterations: [Iteration], _ scopes: [Scope], _ arguments: [CELExpression]) throws(EvaluationError) -> Value {
        var map = ValueMap()
        let filter = arguments.count == 2 ? arguments[0] : nil
        for (iteration, scope) in zip(iterations, scopes) {
            try budget.step()
            guard try passes(filter, in: scope), let key = MapKey(iteration.first) else { continue }
            map[key] = try evaluate(arguments[arguments.count - 1], in: scope)
        }
        try budget.allocate(map.count * 48)
        return .map(map)
    }
}
