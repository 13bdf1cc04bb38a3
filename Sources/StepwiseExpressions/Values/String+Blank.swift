extension String {
    /// Whether the text is empty or only whitespace: a blank name names nothing.
    public var isBlank: Bool {
        allSatisfy(\.isWhitespace)
    }
}
