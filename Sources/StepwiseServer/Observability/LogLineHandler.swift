import Foundation
import Logging
import StepwiseEngine
import StepwiseExpressions

/// A swift-log handler writing one line per event (`--log-format`): text (time, level, label,
/// metadata and message, with every control character written as `\u{…}`, so that a message
/// quoting what a client or an endpoint sent can never split or forge a line), or one JSON object
/// with `time`, `level`, `label`, `message` and every metadata key (`run_id`, `step`, `workflow`,
/// … where the engine knows them) as a string field.
public struct LogLineHandler: LogHandler {
    /// How a line is written.
    public enum Format: Sendable {
        case text
        case json
    }

    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let format: Format
    private let write: @Sendable (String) -> Void

    /// A handler for loggers labelled `label` at `level`, writing lines in `format` with `write`
    /// (standard error by default).
    public init(
        label: String, level: Logger.Level = .info, format: Format, write: @escaping @Sendable (String) -> Void = LogLineHandler.standardError
    ) {
        self.label = label
        self.logLevel = level
        self.format = format
        self.write = write
    }

    /// Writes a line to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data(line.utf8)) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let time = WorkflowEngine.systemTime().description
        let fields = metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key })
        switch format {
        case .text:
            let shown = fields.map { " \(Self.escaped($0.key))=\(Self.escaped($0.value.description))" }.joined()
            write("\(time) \(event.level) \(label):\(shown) \(Self.escaped(event.message.description))\n")
        case .json:
            var line = ValueMap([
                ("time", .string(time)), ("level", .string(event.level.rawValue)), ("label", .string(label)),
                ("message", .string(event.message.description)),
            ])
            for (key, value) in fields { line[.string(key)] = .string(value.description) }
            write(Value.map(line).jsonText() + "\n")
        }
    }

    /// `text` with its control characters written as `\u{…}`.
    static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else { return text }
        var escaped = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            guard scalar.properties.generalCategory == .control else {
                escaped.append(scalar)
                continue
            }
            escaped.append(contentsOf: "\\u{\(String(scalar.value, radix: 16))}".unicodeScalars)
        }
        return String(escaped)
    }
}
