import StepwiseExpressions

extension Value {
    /// The string, when this is one.
    public var string: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    /// The integer, when this is one.
    public var int: Int64? {
        if case .int(let number) = self { return number }
        return nil
    }
}
