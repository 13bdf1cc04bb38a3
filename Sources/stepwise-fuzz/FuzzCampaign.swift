import Foundation
import StepwiseExpressions

/// Runs one target over seeds and their mutations, case after case, and reports crashes (by leaving
/// the input being run behind), slow inputs and failures in a one-line summary.
///
/// Before each case the input is written to `<crash-dir>/<target>-current.input`: if the process
/// dies, that file holds the input that killed it; after a clean run it is removed.
struct FuzzCampaign {
    let seeds: [[UInt8]]
    let cases: Int
    let seed: UInt64
    let crashDirectory: URL

    /// Whether the run found nothing slow and nothing failing.
    func run<Target: FuzzTarget>(_ target: inout Target) throws -> Bool {
        try FileManager.default.createDirectory(at: crashDirectory, withIntermediateDirectories: true)
        let current = crashDirectory.appendingPathComponent("\(target.name)-current.input")
        let record = try CurrentInput(path: current.path)
        var generator = SeededGenerator(seed: seed)
        let clock = ContinuousClock()
        var slow = 0
        var failures = 0
        var worstMillisecondsPerKB = 0.0
        let started = clock.now
        for index in 0..<cases {
            // Seeds first, unchanged, then mutations.
            let input = index < seeds.count ? seeds[index] : target.mutator.mutate(seeds, using: &generator)
            record.write(input)
            var caseStarted = clock.now
            let failure = target.run(input)
            var milliseconds = (clock.now - caseStarted).milliseconds
            let kilobytes = max(1, Double(input.count) / 1024)
            // On a busy machine one case can stall; only an input slow three times running counts.
            for _ in 0..<2 where milliseconds > 100 * kilobytes {
                caseStarted = clock.now
                _ = target.run(input)
                milliseconds = min(milliseconds, (clock.now - caseStarted).milliseconds)
            }
            worstMillisecondsPerKB = max(worstMillisecondsPerKB, milliseconds / kilobytes)
            if milliseconds > 100 * kilobytes {
                slow += 1
                let file = try keep(input, as: "\(target.name)-slow-\(index)")
                print("\(target.name): slow input #\(index): \(String(format: "%.0f", milliseconds)) ms for \(input.count) bytes, kept in \(file)")
            }
            if let failure {
                failures += 1
                let file = try keep(input, as: "\(target.name)-failed-\(index)")
                print("\(target.name): input #\(index): \(failure), kept in \(file)")
            }
        }
        record.remove()
        let wall = (clock.now - started).milliseconds / 1000
        let failing = failures > 0 ? ", \(failures) unanswered" : ""
        print("\(target.name): \(cases) inputs, 0 crashes, \(slow) slow\(failing), max \(String(format: "%.1f", worstMillisecondsPerKB)) ms/KB, \(String(format: "%.1f", wall)) s")
        return slow == 0 && failures == 0
    }

    private func keep(_ input: [UInt8], as name: String) throws -> String {
        let url = crashDirectory.appendingPathComponent(name + ".input")
        try Data(input).write(to: url)
        return url.path
    }
}

extension Duration {
    /// The duration in milliseconds, as a `Double`.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }
}
