import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq restart`.
struct DLQRestartCommand: DLQActionCommand {
    static let action = "restart"
    static let abstract = "Start fresh runs with failed runs' input and label; prints each new run id."

    @OptionGroup var selection: DLQSelection
    @OptionGroup(title: "Options instead of the runs' own") var overrides: ResumeOverrides
    @OptionGroup var server: ServerOption

    var overrideHeaders: [(String, String)] { overrides.headers }
    func inOptionTerms(_ message: String) -> String { overrides.inOptionTerms(message) }
}
