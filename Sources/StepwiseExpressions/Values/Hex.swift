/// Lowercase hexadecimal text of bytes (digests, as QStash and Stepwise write them).
public enum Hex {
    /// Two lowercase hex digits per byte, in order.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
