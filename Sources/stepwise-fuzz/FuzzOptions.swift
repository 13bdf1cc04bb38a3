import ArgumentParser
import Foundation

/// The options every target shares: how many cases, from which seed, and where inputs are kept.
struct FuzzOptions: ParsableArguments {
    @Option(name: .long, help: "Number of inputs to run (the seeds themselves first).")
    var cases = 10_000

    @Option(name: .long, help: "Seed of the random mutations; the same seed repeats the same run.")
    var seed: UInt64 = 1

    @Option(name: .customLong("crash-dir"), help: "Folder for the input being run (left behind by a crash) and for slow or failing inputs.")
    var crashDirectory = ".fuzz-crashes"

    /// Runs `target` over `seeds` and exits with status 1 when anything was slow or failed.
    func run<Target: FuzzTarget>(_ target: inout Target, seeds: [[UInt8]]) throws {
        guard !seeds.isEmpty else { throw ValidationError("no seeds found for \(target.name)") }
        let campaign = FuzzCampaign(seeds: seeds, cases: cases, seed: seed, crashDirectory: URL(fileURLWithPath: crashDirectory))
        if try !campaign.run(&target) { throw ExitCode.failure }
    }
}
