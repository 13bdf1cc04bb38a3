extension String {
    /// Whether the text holds a C0 control character (U+0000 to U+001F) or DEL: none belongs in an
    /// id, a name or a key (PostgreSQL cannot store a NUL; a line break forges log lines).
    public var containsControlCharacter: Bool {
        unicodeScalars.contains { $0.value < 0x20 || $0.value == 0x7F }
    }
}
