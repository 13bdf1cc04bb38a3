/// A value together with where it was written.
public struct Located<Wrapped: Sendable>: Sendable {
    public var value: Wrapped
    public var span: SourceSpan

    public init(_ value: Wrapped, at span: SourceSpan) {
        self.value = value
        self.span = span
    }
}
