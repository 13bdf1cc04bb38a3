import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq delete`.
struct DLQDeleteCommand: DLQActionCommand {
    static let action = "delete"
    static let abstract = "Remove entries from the dead-letter queue."

    @OptionGroup var selection: DLQSelection
    @OptionGroup var server: ServerOption
}
