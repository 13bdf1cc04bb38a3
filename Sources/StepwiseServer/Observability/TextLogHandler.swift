import Foundation
import Logging
import StepwiseEngine

/// A swift-log handler writing one line of text per event (`--log-format text`): time, level,
/// label, metadata and message, with every control character escaped (`\n`, `\u{1b}`), so that a
/// message quoting what a client or an endpoint sent can never forge or split a line.
public struct TextLogHandler: LogHandler {
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let write: @Sendable (String) -> Void

    /// A handler for loggers labelled `label` at `level`, writing lines with `write` (standard
    /// error by default).
    public init(label: String, level: Logger.Level = .info, write: @escaping @Sendable (String) -> Void = JSONLogHandler.standardError) {
        self.label = label
        self.logLevel = level
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        let shown = fields.map { " \(Self.escaped($0.key))=\(Self.escaped($0.value.description))" }.joined()
        write("\(WorkflowEngine.systemTime().description) \(event.level) \(label):\(shown) \(Self.escaped(event.message.description))\n")
    }

    /// `text` with its control characters written as escapes.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var escaped = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case _ where scalar.properties.generalCategory == .control: escaped += "\\u{\(String(scalar.value, radix: 16))}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }
}
