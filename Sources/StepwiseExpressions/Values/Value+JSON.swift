extension Value {
    /// Reads JSON text, a document nested at most 512 levels (a record that holds values); integers
    /// keep their exact 64-bit value (see `JSONReader`).
    public init(json text: String) throws(JSONSyntaxError) {
        var reader = JSONReader(text)
        self = try reader.readDocument()
    }

    /// Reads JSON text that becomes a value a run holds (an input, an event's data, a response's
    /// body): nested at most `maximumNesting` levels, so that the records holding it read back.
    public init(valueJSON text: String) throws(JSONSyntaxError) {
        var reader = JSONReader(text, maximumDepth: Self.maximumNesting)
        self = try reader.readDocument()
    }

    /// This value as JSON text, compact or indented by two spaces.
    public func jsonText(pretty: Bool = false) -> String {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self)
        return writer.output
    }
}
