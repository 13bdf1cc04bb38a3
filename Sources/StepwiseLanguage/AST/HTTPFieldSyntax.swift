/// What HTTP lets a header field hold (RFC 9110 §5.1, §5.5): a name that is a token, a value
/// without line breaks or control characters other than tab. A field outside it cannot be sent,
/// so it is refused where it is made rather than failing every attempt to send it.
public enum HTTPFieldSyntax {
    /// Whether `name` is an HTTP token: letters, digits and ``!#$%&'*+-.^_`|~``.
    public static func isName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy(isTokenByte)
    }

    /// Whether `value` holds no line break and no control character but a tab.
    public static func isValue(_ value: String) -> Bool {
        forbiddenScalar(in: value) == nil
    }

    /// The first character of `value` a header value cannot hold, if any.
    public static func forbiddenScalar(in value: String) -> Unicode.Scalar? {
        value.unicodeScalars.first { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        default: "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}
