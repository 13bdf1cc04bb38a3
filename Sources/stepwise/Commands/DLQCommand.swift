import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq`: the dead-letter queue of failed runs.
struct DLQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dlq", abstract: "Look at and act on failed runs in the dead-letter queue.",
        subcommands: [DLQListCommand.self, DLQResumeCommand.self, DLQRestartCommand.self, DLQRetryCallbackCommand.self, DLQDeleteCommand.self],
        defaultSubcommand: DLQListCommand.self)
}
