import Foundation
import Logging
import StepwiseEngine
import StepwiseExpressions

/// A swift-log handler writing one JSON object per line (`--log-format json`): `time`, `level`,
/// `label`, `message`, and every metadata key (`run_id`, `step`, `workflow`, … where the engine
/// knows them) as a string field.
public struct JSONLogHandler: LogHandler {
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

    /// Writes a line to standard error.
    public static let standardError: @Sendable (String) -> Void = { line in FileHandle.standardError.write(Data(line.utf8)) }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var line = ValueMap([
            ("time", .string(WorkflowEngine.systemTime().description)), ("level", .string(event.level.rawValue)), ("label", .string(label)),
            ("message", .string(event.message.description)),
        ])
        for (key, value) in metadata.merging(event.metadata ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
            line[.string(key)] = .string(value.description)
        }
        write(Value.map(line).jsonText() + "\n")
    }
}
