import ArgumentParser
import Foundation
import Logging
import StepwiseServer

/// How a server command logs: `--log-format text|json` and `--log-level`, on standard error.
struct LogOptions: ParsableArguments {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text
        case json
    }

    @Option(name: .customLong("log-format"), help: "text, or json: one JSON object per line with the run id and step as fields.")
    var format = Format.text

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (debug logs every delivery).")
    var level = "info"

    /// Prints a server's start line on standard output: as written in text, as one JSON record
    /// (`level`, `label`, `message`) in json, so a collector reading both streams reads JSON only.
    func announce(_ message: String) {
        guard format == .json else {
            FileHandle.standardOutput.write(Data((message + "\n").utf8))
            return
        }
        let stdout = Logger(label: "stepwise") { label in
            LogLineHandler(label: label, format: .json) { line in FileHandle.standardOutput.write(Data(line.utf8)) }
        }
        stdout.info("\(message)")
    }

    /// Installs the handler for the whole process; called once, before anything logs.
    func bootstrap() throws {
        guard let level = Logger.Level(rawValue: level) else {
            throw CommandFailure.usage("--log-level must be one of trace, debug, info, notice, warning, error, critical")
        }
        let lines: LogLineHandler.Format = format == .json ? .json : .text
        LoggingSystem.bootstrap { label in LogLineHandler(label: label, level: level, format: lines) }
    }
}
