import ArgumentParser
import StepwiseFuzzing
import StepwiseLanguage

/// `stepwise-fuzz yaml`: workflow files through the loader, decoder, validator and reports.
struct YAMLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "yaml", abstract: "Fuzz loading and validating workflow files.")

    @OptionGroup var options: FuzzOptions

    @Option(name: .long, help: "Folders whose YAML files are the seeds.")
    var seeds = ["workflows", "Tests/StepwiseLanguageTests/Fixtures/invalid"]

    func run() throws {
        let files = SeedCorpus.files(in: seeds)
        let names = Set(files.compactMap { WorkflowFile(path: $0.path, source: String(decoding: $0.bytes, as: UTF8.self)).workflow?.name.value })
        var target = YAMLTarget(exercise: WorkflowFileExercise(knownWorkflows: names))
        try options.run(&target, seeds: files.map(\.bytes))
    }
}
