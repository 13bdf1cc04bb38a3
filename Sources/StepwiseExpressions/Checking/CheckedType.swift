/// What the checker knows of a sub-expression's type: a definite CEL type, or nothing (`dyn`).
public enum CheckedType: Sendable, Hashable {
    case dyn
    case known(ValueType)

    /// The type when it is known.
    public var valueType: ValueType? {
        if case .known(let type) = self { return type }
        return nil
    }
}
