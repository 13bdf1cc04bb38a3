/// The `Host` header as HTTP allows it (RFC 9110 §7.2): a host name or address and an optional
/// port, nothing else. A server must answer 400 to any other (RFC 9112 §3.2); browsers never send one.
enum HostHeader {
    /// Whether `host` is made only of what a host and port are written with (`example.com:8080`,
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
