import StepwiseExpressions

/// A use of a variable's field path in an expression: `steps.fetch.body` is root `steps`, path
/// `[fetch, body]`. `isGuarded` is true inside `has(…)` or after `.?`, where absence is expected;
/// `isNullTested` where a test that part of the path is not null decides that it is evaluated
/// (`steps.x != null ? steps.x.y : 0`, `steps.x == null || steps.x.y`).
struct ExpressionReference {
    var root: String
    var path: [String]
    /// Offset of the first selected field (or of the root when the path is empty) in the expression.
    var offset: Int
    var isGuarded: Bool
    var isNullTested = false

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
            // `has(steps.x) && steps.x.y`: the right side runs only when the test held; after
            // `||` only when it failed.
            visit(right, guarded: false, into: &references, testedBy: op == .and ? left : nil, failedTest: op == .or ? left : nil)
        case .conditional(let condition, let then, let otherwise):
            visit(condition, guarded: false, into: &references)
            visit(then, guarded: false, into: &references, testedBy: condition)
            visit(otherwise, guarded: false, into: &references, failedTest: condition)
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

    /// Visits `expression`, evaluated only when `condition` held (or only when `failed` did not):
    /// references to what the condition tests with `has()` (directly or through `&&`) count as
    /// guarded, and to what it finds not null (`!= null` when it held, `== null` when it failed) as null-tested.
    private static func visit(
        _ expression: CELExpression, guarded: Bool, into references: inout [ExpressionReference], testedBy condition: CELExpression? = nil,
        failedTest failed: CELExpression? = nil
    ) {
        var found: [ExpressionReference] = []
        visit(expression, guarded: guarded, into: &found)
        let tested = condition.map(presenceTests) ?? []
        let notNull = (condition.map { nullTests(in: $0, holding: true) } ?? []) + (failed.map { nullTests(in: $0, holding: false) } ?? [])
        func covers(_ tests: [ExpressionReference], _ reference: ExpressionReference) -> Bool {
            tests.contains { $0.root == reference.root && reference.path.starts(with: $0.path) }
        }
        for var reference in found {
            if covers(tested, reference) { reference.isGuarded = true }
            if covers(notNull, reference) { reference.isNullTested = true }
            references.append(reference)
        }
    }

    /// The chains that `condition` shows not to be null when it `holding`s (`x != null`, joined by
    /// `&&`) or when it fails (`x == null`, joined by `||`).
    private static func nullTests(in condition: CELExpression, holding: Bool) -> [ExpressionReference] {
        guard case .binary(let op, let left, let right) = condition.kind else { return [] }
        switch op {
        case .and where holding, .or where !holding:
            return nullTests(in: left, holding: holding) + nullTests(in: right, holding: holding)
        case .notEqual where holding, .equal where !holding:
            let compared = isNull(right) ? left : isNull(left) ? right : nil
            return compared.flatMap { chain($0, guarded: false) }.map { [$0] } ?? []
        default:
            return []
        }
    }

    private static func isNull(_ expression: CELExpression) -> Bool {
        if case .literal(.null) = expression.kind { return true }
        return false
    }

    /// The steps a step's `if` shows to have run when it holds: those it tests with
    /// `has(steps.ID…)`, alone or joined by `&&` (the condition being its template's one expression).
    static func stepsTested(by condition: ValueTemplate) -> Set<String> {
        guard case .template(let parsed, _, _) = condition.kind, parsed.singleExpression != nil,
            let expression = condition.expressions.first?.expression
        else { return [] }
        return Set(presenceTests(in: expression).filter { $0.root == "steps" }.compactMap(\.path.first))
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
