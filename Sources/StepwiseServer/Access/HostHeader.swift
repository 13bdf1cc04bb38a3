/// The `Host` header checked by its characters: a host name or address and an optional port
/// (RFC 9110 §7.2), to which a server answers 400 otherwise (RFC 9112 §3.2). Stricter than
/// RFC 3986 on purpose: percent-encoded names, sub-delimiters and IPv6 zone ids are refused too,
/// which no browser or HTTP client sends; the structure (one port, matched brackets) is not checked.
enum HostHeader {
    /// Whether `host` is made only of letters, digits and `.-_:[]` (`example.com:8080`,
    /// `[::1]:80`, `127.0.0.1`); a user-info `@`, a path, spaces and control bytes are not.
    static func isWellFormed(_ host: String) -> Bool {
        host.utf8.allSatisfy(isAuthorityByte)
    }

    private static func isAuthorityByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "."), UInt8(ascii: "-"), UInt8(ascii: ":"), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "_"): true
        default: false
        }
    }
}
