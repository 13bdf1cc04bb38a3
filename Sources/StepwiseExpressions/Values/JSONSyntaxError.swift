/// JSON text that could not be read: what is wrong and the byte offset where it was noticed.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, in words a person understands.
    public let message: String
    /// Byte offset (UTF-8) into the text.
    public let offset: Int

    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    public var description: String { "invalid JSON at offset \(offset): \(message)" }
}
