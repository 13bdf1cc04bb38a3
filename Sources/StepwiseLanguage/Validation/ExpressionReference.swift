import StepwiseExpressions

/// A use of a variable's field path in an expression: `steps.fetch.body` is root `steps`, path
/// `[fetch, body]`. `isGuarded` is true inside `has(…)` or after `.?`, where absence is expected.
struct ExpressionReference {
    var root: String
    var path: [String]
    /// Offset of the first selected field (or of the root when the path is empty) in the expression.
    var offset: Int
    var isGuarded: Bool

    /// Every maximal field path rooted at an identifier in `expression`.
    static func collect(in expression: CELExpression) -> [ExpressionReference] {
        var references: [ExpressionReference] = []
        visit(expression, guarded: false, into: &references)
        return references
    }

    private static func visit(_ expression: CELExpression, guarded: Bool, into references: inout [ExpressionReference]) {
        if let reference = chain(expression, guarded: guarded) {
            references.append(reference)
            visitOperands(ofChain: expression, into: &references)
            return
        }
        switch expression.kind {
        case .literal, .identifier: return
        case .select(let operand, _, _): visit(operand, guarded: guarded, into: &references)
        case .presenceTest(let operand, let field):
            let test = CELExpression(.select(operand, field: field, isOptional: true), at: expression.offset)
            visit(test, guarded: true, into: &references)
        case .index(let operand, let index, _):
            visit(operand, guarded: guarded, into: &references)
            visit(index, guarded: false, into: &references)
        case .call(_, let arguments):
            for argument in arguments { visit(argument, guarded: false, into: &references) }
        case .method(let target, _, let arguments):
            visit(target, guarded: false, into: &references)
            for argument in arguments { visit(argument, guarded: false, into: &references) }
        case .unary(_, let operand): visit(operand, guarded: false, into: &references)
        case .binary(let op, let left, let right):
            visit(left, guarded: false, into: &references)
            // `has(steps.x) && steps.x.y`: the right side runs only when the test held.
            visit(right, guarded: false, into: &references, testedBy: op == .and ? left : nil)
        case .conditional(let condition, let then, let otherwise):
            visit(condition, guarded: false, into: &references)
            visit(then, guarded: false, into: &references, testedBy: condition)
            visit(otherwise, guarded: false, into: &references)
        case .list(let elements):
            for element in elements { visit(element.value, guarded: false, into: &references) }
        case .map(let entries):
            for entry in entries {
                visit(entry.key, guarded: false, into: &references)
                visit(entry.value, guarded: false, into: &references)
            }
        case .comprehension(let comprehension):
            visit(comprehension.range, guarded: false, into: &references)
            for argument in comprehension.arguments { visit(argument, guarded: false, into: &references) }
        case .bind(_, let value, let body):
            visit(value, guarded: false, into: &references)
            visit(body, guarded: false, into: &references)
        case .optionalMap(let target, _, let body, _):
            visit(target, guarded: true, into: &references)
            visit(body, guarded: false, into: &references)
        }
    }

    /// Visits `expression`, evaluated only when `condition` held: references to what the
    /// condition tests with `has()` (directly or through `&&`) count as guarded.
    private static func visit(
        _ expression: CELExpression, guarded: Bool, into references: inout [ExpressionReference], testedBy condition: CELExpression?
    ) {
        var found: [ExpressionReference] = []
        visit(expression, guarded: guarded, into: &found)
        let tested = condition.map(presenceTests) ?? []
        for var reference in found {
            if tested.contains(where: { $0.root == reference.root && reference.path.starts(with: $0.path) }) { reference.isGuarded = true }
            references.append(reference)
        }
    }

    /// The chains a condition tests with `has()`, alone or joined by `&&`.
    private static func presenceTests(in condition: CELExpression) -> [ExpressionReference] {
        switch condition.kind {
        case .presenceTest(let operand, let field):
            let test = CELExpression(.select(operand, field: field, isOptional: true), at: condition.offset)
            return chain(test, guarded: true).map { [$0] } ?? []
        case .binary(.and, let left, let right):
            return presenceTests(in: left) + presenceTests(in: right)
        default:
            return []
        }
    }

    /// The chain `root.a.b['c']` ending at `expression`, if it is one.
    private static func chain(_ expression: CELExpression, guarded: Bool) -> ExpressionReference? {
        switch expression.kind {
        case .identifier(let name):
            return ExpressionReference(root: name, path: [], offset: expression.offset, isGuarded: guarded)
        case .select(let operand, let field, let isOptional):
            guard var reference = chain(operand, guarded: guarded) else { return nil }
            if reference.path.isEmpty { reference.offset = expression.offset }
            reference.path.append(field)
            reference.isGuarded = reference.isGuarded || isOptional
            return reference
        case .index(let operand, let index, let isOptional):
            guard case .literal(.string(let field)) = index.kind, var reference = chain(operand, guarded: guarded) else { return nil }
            if reference.path.isEmpty { reference.offset = index.offset }
            reference.path.append(field)
            reference.isGuarded = reference.isGuarded || isOptional
            return reference
        default:
            return nil
        }
    }

    /// Index expressions inside a chain (`steps.a[input.i]` is not a chain, but literal indices are).
    private static func visitOperands(ofChain expression: CELExpression, into references: inout [ExpressionReference]) {
        if case .index(let operand, let index, _) = expression.kind {
            visit(index, guarded: false, into: &references)
            visitOperands(ofChain: operand, into: &references)
        } else if case .select(let operand, _, _) = expression.kind {
            visitOperands(ofChain: operand, into: &references)
        }
    }
}
