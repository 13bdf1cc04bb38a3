extension String {
    /// Whether this string and `other` are equal once ASCII letters are lowercased: how HTTP
    /// header names compare. Compares the bytes in place, where `lowercased()` on both sides
    /// makes two strings per comparison.
    public func equalsIgnoringASCIICase(_ other: String) -> Bool {
        utf8.elementsEqual(other.utf8) { Self.asciiLowercased($0) == Self.asciiLowercased($1) }
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
    }
}
