import StepwiseExpressions

/// `for_each: {items, concurrency, steps}`.
public struct ForEachLoop: Sendable {
    public var items: ValueTemplate
    public var concurrency: Located<Int>?
    public var steps: [Step]
}
