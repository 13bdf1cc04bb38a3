/// A problem the checker finds in an expression before it runs.
public struct ExpressionDiagnostic: Sendable, Hashable, CustomStringConvertible {
    /// The kind of problem, stable for tools and tests.
    public enum Kind: String, Sendable, Hashable {
        case unknownIdentifier
        case unknownFunction
        case wrongArgumentCount
        case typeMismatch
    }

    public var kind: Kind
    /// What is wrong, for a person.
    public var message: String
    /// Offset in the expression source (Unicode scalars).
    public var offset: Int
    /// A suggestion, such as the declared name closest to a misspelled one.
    public var hint: String?

    public init(_ kind: Kind, _ message: String, offset: Int, hint: String? = nil) {
        self.kind = kind
        self.message = message
        self.offset = offset
        self.hint = hint
    }

    public var description: String { message + (hint.map { " (\($0))" } ?? "") }
}
