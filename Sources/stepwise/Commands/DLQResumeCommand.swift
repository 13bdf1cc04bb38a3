import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise dlq resume`.
struct DLQResumeCommand: DLQActionCommand {
    static let action = "resume"
    static let abstract = "Continue failed runs from their failed step; prints each run id."

    @OptionGroup var selection: DLQSelection
    @OptionGroup(title: "Options instead of the runs' own") var overrides: ResumeOverrides
    @OptionGroup var server: ServerOption

    var overrideHeaders: [(String, String)] { overrides.headers }
    func inOptionTerms(_ message: String) -> String { overrides.inOptionTerms(message) }
}
