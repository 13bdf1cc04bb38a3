import Logging
import Synchronization

/// Every line logged through `logger`, at every level with its metadata, kept for inspection
/// (the "server output" of an in-process server).
public final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// An empty log.
    public init() {}

    /// A logger at trace level whose lines this log keeps.
    public var logger: Logger {
        var logger = Logger(label: "stepwise.captured") { label in CapturingHandler(log: self, label: label) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far, one line per message.
    public var text: String { lines.withLock { $0.joined(separator: "\n") } }

    fileprivate func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }
}

private struct CapturingHandler: LogHandler {
    public let log: CapturedLog
    public let label: String
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(label): \(event.message) \(all)")
    }
}
