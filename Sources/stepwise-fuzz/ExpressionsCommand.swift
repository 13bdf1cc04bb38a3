import ArgumentParser

/// `stepwise-fuzz expressions`: CEL expressions and templates through parser, checker and evaluator.
struct ExpressionsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "expressions", abstract: "Fuzz parsing, checking and evaluating expressions.")

    @OptionGroup var options: FuzzOptions

    @Option(name: .long, help: "Folders of workflows whose ${{ }} templates are seeds.")
    var workflows = ["workflows"]

    @Option(name: .customLong("cel-dir"), help: "Folder of CEL conformance JSON files whose \"expr\" strings are seeds.")
    var celDirectory = "../shared/conformance/cel"

    func run() throws {
        let texts = SeedCorpus.files(in: workflows).map { String(decoding: $0.bytes, as: UTF8.self) }
        let expressions = SeedCorpus.templateExpressions(in: texts) + SeedCorpus.conformanceExpressions(in: celDirectory)
        var target = ExpressionTarget()
        try options.run(&target, seeds: expressions.map { Array($0.utf8) })
    }
}
