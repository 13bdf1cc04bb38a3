import Foundation

/// Base64url (RFC 4648 §5), the alphabet of JWT segments and of the `body` claim, and of opaque
/// tokens in URLs (run listing cursors).
public enum Base64URL {
    /// Encodes; `padded` keeps trailing `=` (QStash keeps them in the `body` claim, JWT segments
    /// drop them).
    public static func encode(_ bytes: some Sequence<UInt8>, padded: Bool) -> String {
        var text = Data(bytes).base64EncodedString()
        text = String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
        return padded ? text : String(text.prefix { $0 != "=" })
    }

    /// Decodes with or without padding; `nil` when the text is not base64url.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        guard !text.contains(where: { $0 == "+" || $0 == "/" }) else { return nil }
        let standard = String(text.map { $0 == "-" ? "+" : $0 == "_" ? "/" : $0 })
        return try? WireJSON.unbase64(standard, what: "")
    }
}
