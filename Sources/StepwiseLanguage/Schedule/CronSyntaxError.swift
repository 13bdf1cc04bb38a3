/// A cron expression that cannot be parsed or scheduled, with the position of the offending part
/// so that a workflow validator can point at the exact column of the `cron:` value.
public struct CronSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, e.g. `minute value 61 is out of range 0-59`.
    public let message: String
    /// The offset, in characters (not bytes), of the offending part within the cron text; 0 when
    /// the error concerns something outside the text, such as an unknown time zone.
    public let offset: Int

    /// Creates an error reporting `message` at character `offset` of the cron text.
    public init(_ message: String, offset: Int) {
        self.message = message
        self.offset = offset
    }

    /// The message followed by the 1-based column, as a person would count it in an editor.
    public var description: String {
        "\(message) (at column \(offset + 1))"
    }
}
