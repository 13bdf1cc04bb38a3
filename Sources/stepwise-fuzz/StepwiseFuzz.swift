import ArgumentParser

/// `stepwise-fuzz`: seeded mutation fuzzing of the workflow loader, the expression language and a
/// running server. A run is fixed by its seed; it exits non-zero when an input was slow or (for a
/// server) unanswered, and a crash leaves the input that caused it in the crash folder.
@main
struct StepwiseFuzz: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise-fuzz",
        abstract: "Feed mutated inputs to Stepwise's parsers and server; report crashes, slow inputs and silence.",
        subcommands: [YAMLCommand.self, ExpressionsCommand.self, HTTPCommand.self]
    )
}
