import Logging
import Synchronization

/// Every line logged through `logger`, at every level with its metadata, kept for inspection
/// (the "server output" of an in-process server).
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])

    /// A logger at trace level whose lines this log keeps.
    var logger: Logger {
        var logger = Logger(label: "stepwise.captured") { label in CapturingHandler(log: self, label: label) }
        logger.logLevel = .trace
        return logger
    }

    /// Everything logged so far, one line per message.
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    fileprivate func append(_ line: String) {
        lines.withLock { $0.append(line) }
    }
}

private struct CapturingHandler: LogHandler {
    let log: CapturedLog
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let all = metadata.merging(event.metadata ?? [:]) { $1 }
        log.append("\(event.level) \(label): \(event.message) \(all)")
    }
}
