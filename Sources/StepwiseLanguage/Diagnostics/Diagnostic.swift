/// One problem found in a workflow file: severity, stable code, message, location and an
/// optional hint saying what would be right.
public struct Diagnostic: Sendable, Hashable, CustomStringConvertible {
    public var severity: Severity
    public var code: DiagnosticCode
    public var message: String
    public var span: SourceSpan
    public var hint: String?

    public init(_ code: DiagnosticCode, _ message: String, at span: SourceSpan, hint: String? = nil, severity: Severity? = nil) {
        self.code = code
        self.message = message
        self.span = span
        self.hint = hint
        self.severity = severity ?? code.defaultSeverity
    }

    public var description: String {
        "\(span): \(severity.rawValue)[\(code.rawValue)]: \(message)" + (hint.map { " (hint: \($0))" } ?? "")
    }
}
