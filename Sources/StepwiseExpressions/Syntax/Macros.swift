/// Expands CEL's macros at parse time: calls whose arguments are not evaluated like function
/// arguments (`has(a.b)`, `list.all(x, p)`, `cel.bind(x, v, e)`, …) become dedicated nodes.
enum Macros {
    /// A global call `name(arguments)`: `has(a.b)` becomes a presence test, anything else a call.
    static func expandGlobal(_ name: String, arguments: [CELExpression], at offset: Int) throws(ParseError) -> CELExpression {
        guard name == "has" else { return CELExpression(.call(name, arguments), at: offset) }
        guard arguments.count == 1, case .select(let operand, let field, false) = arguments[0].kind else {
            throw ParseError("has() takes one field selection, as in has(input.email)", offset: arguments.first?.offset ?? offset)
        }
        return CELExpression(.presenceTest(operand, field: field), at: offset)
    }

    /// A receiver call `target.name(arguments)`: comprehension macros, `cel.bind` and `optMap`/`optFlatMap`
    /// become their nodes; anything else a method call.
    static func expandMethod(
        _ name: String, target: CELExpression, arguments: [CELExpression], at offset: Int, dot: Int
    ) throws(ParseError) -> CELExpression {
        if name == "bind", case .identifier("cel") = target.kind {
            let variable = try variableName(arguments, 0, of: "cel.bind", expected: 3, at: offset)
            return CELExpression(.bind(variable, arguments[1], arguments[2]), at: offset)
        }
        if name == "optMap" || name == "optFlatMap" {
            let variable = try variableName(arguments, 0, of: name, expected: 2, at: offset)
            return CELExpression(
                .optionalMap(target, variable: variable, body: arguments[1], isFlat: name == "optFlatMap"), at: offset)
        }
        guard let macro = comprehensionMacro(named: name),
            let variableCount = variableCount(of: macro, argumentCount: arguments.count)
        else {
            return CELExpression(.method(target, name, arguments), at: offset)
        }
        var variables: [String] = []
        for position in 0..<variableCount {
            variables.append(try variableName(arguments, position, of: name, expected: arguments.count, at: offset))
        }
        if variables.count == 2, variables[0] == variables[1] {
            throw ParseError("\(name)() needs two different variable names, got '\(variables[0])' twice", offset: arguments[1].offset)
        }
        let comprehension = Comprehension(
            macro: macro, spelling: name, range: target, variables: variables,
            arguments: Array(arguments[variableCount...]))
        return CELExpression(.comprehension(comprehension), at: offset)
    }

    private static func comprehensionMacro(named name: String) -> Comprehension.Macro? {
        name == "existsOne" ? .existsOne : Comprehension.Macro(rawValue: name)
    }

    /// How many leading identifier arguments the macro binds for this argument count, or `nil`
    /// when the count is not a macro form (then it is an ordinary method call and fails at evaluation).
    private static func variableCount(of macro: Comprehension.Macro, argumentCount: Int) -> Int? {
        switch (macro, argumentCount) {
        case (.all, 2), (.exists, 2), (.existsOne, 2), (.filter, 2), (.map, 2), (.map, 3): 1
        case (.all, 3), (.exists, 3), (.existsOne, 3): 2
        case (.transformList, 3), (.transformList, 4), (.transformMap, 3), (.transformMap, 4): 2
        default: nil
        }
    }

    private static func variableName(
        _ arguments: [CELExpression], _ position: Int, of macro: String, expected: Int, at offset: Int
    ) throws(ParseError) -> String {
        guard arguments.count == expected else {
            throw ParseError("\(macro)() takes \(expected) arguments, got \(arguments.count)", offset: offset)
        }
        guard case .identifier(let name) = arguments[position].kind else {
            throw ParseError(
                "argument \(position + 1) of \(macro)() must be a variable name, as in \(macro)(x, …)",
                offset: arguments[position].offset)
        }
        return name
    }
}
