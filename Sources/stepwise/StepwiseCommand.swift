import ArgumentParser

/// The `stepwise` command line: durable workflows written in YAML.
@main
struct StepwiseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stepwise",
        abstract: "Durable workflows written in YAML.",
        subcommands: [EvalCommand.self]
    )
}
