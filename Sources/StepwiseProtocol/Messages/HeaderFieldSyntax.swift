/// What HTTP lets a header field hold (RFC 9110 §5.1, §5.5), checked where headers arrive as JSON
/// (a batch item, an invoke request) rather than in a request's head, which the HTTP parser has
/// checked: a field the client cannot send would fail every attempt of its message instead.
public enum HeaderFieldSyntax {
    /// Refuses a name that is not an HTTP token, or a value holding a line break or another
    /// control character but a tab; the error names the field, never its value.
    public static func check(name: String, value: String) throws(ProtocolError) {
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenByte) else {
            throw ProtocolError("'\(name)' is not a header name: letters, digits and !#$%&'*+-.^_`|~ only")
        }
        guard value.utf8.allSatisfy(isValueByte) else {
            throw ProtocolError("the value of header '\(name)' holds a line break or a control character")
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }

    private static func isValueByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "\t") || (byte >= 0x20 && byte != 0x7F)
    }
}
