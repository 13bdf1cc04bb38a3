import StepwiseExpressions

/// A value written in a workflow: JSON-like data whose strings may embed `${{ }}` expressions,
/// and, in `auth` and `headers` only, `{secret: NAME}` references resolved at send time.
public struct ValueTemplate: Sendable {
    /// The forms a value takes.
    public indirect enum Kind: Sendable {
        /// Data with no expression in it.
        case literal(Value)
        /// A string with `${{ }}` parts; `layout` maps expression offsets back to source columns.
        case template(Template, text: String, layout: YAMLScalarLayout)
        case list([ValueTemplate])
        case map([(key: String, value: ValueTemplate)])
        /// `{secret: NAME}`: never a value in expressions, never journaled.
        case secret(String)
    }

    public var kind: Kind
    public var span: SourceSpan

    public init(_ kind: Kind, at span: SourceSpan) {
        self.kind = kind
        self.span = span
    }

    /// The value when it holds no expression and no secret (a schedule's input as written);
    /// `nil` otherwise.
    public var literalValue: Value? {
        switch kind {
        case .literal(let value): return value
        case .template, .secret: return nil
        case .list(let items):
            var values: [Value] = []
            for item in items {
                guard let value = item.literalValue else { return nil }
                values.append(value)
            }
            return .list(values)
        case .map(let entries):
            var map = ValueMap()
            for entry in entries {
                guard let value = entry.value.literalValue else { return nil }
                map[.string(entry.key)] = value
            }
            return .map(map)
        }
    }

    /// Every expression in the value, with the source location where it starts.
    public var expressions: [(expression: CELExpression, span: SourceSpan, locate: @Sendable (Int) -> SourceSpan)] {
        var found: [(expression: CELExpression, span: SourceSpan, locate: @Sendable (Int) -> SourceSpan)] = []
        collectExpressions(into: &found)
        return found
    }

    private func collectExpressions(into found: inout [(expression: CELExpression, span: SourceSpan, locate: @Sendable (Int) -> SourceSpan)]) {
        switch kind {
        case .literal, .secret: return
        case .template(let template, let text, let layout):
            let start = span
            for (expression, offset) in template.expressions {
                let locate: @Sendable (Int) -> SourceSpan = { layout.location(ofOffset: offset + $0, in: text, startingAt: start) }
                found.append((expression, locate(0), locate))
            }
        case .list(let items):
            for item in items { item.collectExpressions(into: &found) }
        case .map(let entries):
            for entry in entries { entry.value.collectExpressions(into: &found) }
        }
    }

    /// The secret references anywhere in the value, with their locations.
    public var secretReferences: [Located<String>] {
        switch kind {
        case .literal, .template: []
        case .secret(let name): [Located(name, at: span)]
        case .list(let items): items.flatMap(\.secretReferences)
        case .map(let entries): entries.flatMap(\.value.secretReferences)
        }
    }
}
