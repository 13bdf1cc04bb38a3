extension Value {
    /// Reads JSON text; integers keep their exact 64-bit value (see `JSONReader`).
    public init(json text: String) throws(JSONSyntaxError) {
        var reader = JSONReader(text)
        self = try reader.readDocument()
    }

    /// This value as JSON text, compact or indented by two spaces.
    public func jsonText(pretty: Bool = false) -> String {
        var writer = JSONWriter(pretty: pretty)
        writer.write(self)
        return writer.output
    }
}
