import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// What `stepwise dlq resume|restart` sets instead of a run's own options: Upstash's override
/// headers of a resume or restart.
struct ResumeOverrides: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Retries of each remaining delivery of an SDK run.") var retries: Int?
    @Option(name: .long, help: "The retry delay expression of an SDK run's remaining deliveries (QStash's Upstash-Retry-Delay).") var retryDelay: String?
    @Option(name: .long, help: "The flow-control key of an SDK run's remaining deliveries.") var flowControlKey: String?
    @Option(name: .long, help: "Its limits, e.g. 'parallelism=2, rate=10, period=1m'.") var flowControlValue: String?
    @Option(name: .long, help: "The URL an SDK run's failure is reported to from now on.") var failureUrl: String?
    @Option(name: .long, help: "How long an SDK run's next delivery waits, e.g. 30s.") var delay: String?
    @Option(name: .long, help: "The run's label from now on.") var newLabel: String?

    /// Each option, the header the server reads it from, and its value if given.
    private var table: [(option: String, header: String, value: String?)] {
        [
            ("--retries", "Upstash-Retries", retries.map(String.init)), ("--retry-delay", "Upstash-Retry-Delay", retryDelay),
            ("--flow-control-key", "Upstash-Flow-Control-Key", flowControlKey), ("--flow-control-value", "Upstash-Flow-Control-Value", flowControlValue),
            ("--failure-url", "Upstash-Failure-Callback", failureUrl), ("--delay", "Upstash-Delay", delay), ("--new-label", "Upstash-Label", newLabel),
        ]
    }

    /// The headers the server reads them from.
    var headers: [(String, String)] {
        table.compactMap { row in row.value.map { (row.header, $0) } }
    }

    /// The server's `message` with each header named by the option that set it: `--retries
    /// (Upstash-Retries)`, as the person typed it.
    func inOptionTerms(_ message: String) -> String {
        table.filter { $0.value != nil }.reduce(message) { text, row in
            text.replacingOccurrences(of: row.header, with: "\(row.option) (\(row.header))")
        }
    }
}
