import StepwiseLanguage

/// Header fields that arrive as JSON (a batch item, an invoke or wait request) rather than in a
/// request's head, which the HTTP parser has checked, are checked against `HTTPFieldSyntax`: a
/// field the client cannot send would fail every attempt of its message instead.
public enum HeaderFieldSyntax {
    /// Refuses a name that is not an HTTP token, or a value holding a line break or another
    /// control character but a tab; the error names the field, never its value.
    public static func check(name: String, value: String) throws(ProtocolError) {
        guard HTTPFieldSyntax.isName(name) else {
            throw ProtocolError("'\(name)' is not a header name: letters, digits and !#$%&'*+-.^_`|~ only")
        }
        guard HTTPFieldSyntax.isValue(value) else {
            throw ProtocolError("the value of header '\(name)' holds a line break or a control character")
        }
    }
}
