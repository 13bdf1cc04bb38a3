import Foundation
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// Prints performance figures for the parts users wait on: validating workflows, evaluating
/// expressions and redacting secrets from responses. Run in release mode:
/// `swift run -c release stepwise-benchmarks`.
@main
struct StepwiseBenchmarks {
    static func main() throws {
        print("Stepwise benchmarks (\(ProcessInfo.processInfo.activeProcessorCount) cores)")
        let generated = GeneratedWorkflow.yaml(steps: 500)
        let check = WorkflowFile(path: "generated.yaml", source: generated)
        print("generated workflow: \(check.workflow?.allSteps.count ?? 0) steps, \(check.diagnostics.count) diagnostics")
        report("validate a generated workflow (500 top-level steps)", iterations: 50) {
            _ = WorkflowFile(path: "generated.yaml", source: generated)
        }
        // Ten times the steps should cost about ten times as much: validation is linear in the steps.
        let large = GeneratedWorkflow.yaml(steps: 5_000)
        report("validate a generated workflow (5,000 top-level steps)", iterations: 10) {
            _ = WorkflowFile(path: "large.yaml", source: large)
        }
        let folder = try exampleWorkflows()
        report("validate workflows/ (\(folder.count) files)", iterations: 50) {
            for (path, source) in folder { _ = WorkflowFile(path: path, source: source) }
        }
        let expression = try Parser.parse("input.items.filter(i, i.qty > 0).map(i, i.price * double(i.qty)).exists(t, t > 100.0)")
        let items = Value.list((0..<20).map { index in ["qty": .int(Int64(index % 3)), "price": .double(Double(index) * 7.5)] })
        report("evaluate a filter/map/exists expression over 20 items", iterations: 20_000) {
            _ = try? expression.evaluate(["input": ["items": items]])
        }
        report("parse a 100-character expression", iterations: 20_000) {
            _ = try? Parser.parse("steps.fetch.body.items.filter(i, i.price > 10 && i.tags.exists(t, t == 'sale')).map(i, i.id)")
        }
        redaction()
    }

    /// Redacting a 1 MiB JSON response of a request that carried a secret with many echo forms
    /// (punctuation and a character past ASCII): without the secret in it (the usual case), and
    /// with the secret spelled by a JSON escape, which redaction finds only after decoding; with the
    /// secret as is, which makes redaction read the document and write it anew; and a body that
    /// repeats the secret's first byte, where every byte could start a form.
    static func redaction() {
        let secret = "p@ss/w0rd<&>\u{E9}-x ~!*"
        let redactor = SecretRedactor(secrets: [secret])
        let item = #"{"name": "item \u00e9", "path": "a\/b", "note": "nothing to see here, just text"}"#
        let clean = Array(("{\"items\": [" + Array(repeating: item, count: 12_000).joined(separator: ", ") + "]}").utf8)
        let leaking = Array(#"{"echo": "p@ss\/w0rd\u003c\u0026\u003e\u00e9-x ~!*", "#.utf8) + clean.dropFirst()
        report("redact a \(clean.count / 1024) KiB JSON response without the secret", iterations: 20) {
            _ = redactor.redact(body: clean)
        }
        report("redact the same with the secret spelled by escapes", iterations: 20) {
            _ = redactor.redact(body: leaking)
        }
        let echoing = Array(("{\"echo\": \"" + secret + "\", ").utf8) + clean.dropFirst()
        report("redact the same with the secret as is (JSON written anew)", iterations: 20) {
            _ = redactor.redact(body: echoing)
        }
        // What every attempt of a queued message that forwards `Authorization: Bearer …` pays
        // before its answer is logged (`QueuedAttemptResolver`'s echo redactor).
        report("make the redactor of a forwarded Bearer credential", iterations: 2_000) {
            _ = SecretRedactor(secrets: ["Bearer sk-live-4f9a2c7e1b", "sk-live-4f9a2c7e1b"])
        }
        let firstBytes = [UInt8](repeating: Array(secret.utf8)[0], count: 10 << 20)
        report("redact 10 MiB of the secret's first byte (an endpoint's worst case)", iterations: 3) {
            _ = redactor.redact(body: firstBytes)
        }
    }

    /// Runs `body` `iterations` times after a warm-up and prints the median and 90th percentile
    /// of batches, so one slow batch (a page fault, the other core busy) does not skew the figure.
    static func report(_ name: String, iterations: Int, _ body: () -> Void) {
        for _ in 0..<max(1, iterations / 10) { body() }
        let clock = ContinuousClock()
        let batches = 10
        var perIteration: [Double] = []
        for _ in 0..<batches {
            let count = max(1, iterations / batches)
            let elapsed = clock.measure { for _ in 0..<count { body() } }
            perIteration.append(seconds(elapsed) / Double(count))
        }
        perIteration.sort()
        let median = perIteration[batches / 2]
        let p90 = perIteration[batches * 9 / 10 - 1]
        let label = name.padding(toLength: 58, withPad: " ", startingAt: 0)
        print("\(label) median \(format(median))   p90 \(format(p90))")
    }

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func format(_ seconds: Double) -> String {
        if seconds >= 1e-3 { return String(format: "%8.3f ms", seconds * 1e3) }
        return String(format: "%8.2f µs", seconds * 1e6)
    }

    static func exampleWorkflows() throws -> [(String, String)] {
        let folder = "workflows"
        let names = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasSuffix(".yaml") }.sorted()
        return try names.map { name in
            let path = "\(folder)/\(name)"
            return (path, try String(contentsOfFile: path, encoding: .utf8))
        }
    }
}

/// A large but realistic workflow: http calls, sets and switches that reference earlier steps.
enum GeneratedWorkflow {
    static func yaml(steps count: Int) -> String {
        var yaml = """
            workflow: generated
            input:
              type: object
              properties:
                user_id: {type: string}
                amount: {type: number}
            secrets: [API_TOKEN]
            steps:

            """
        for index in 0..<count {
            switch index % 4 {
            case 0:
                yaml += """
                      - id: fetch_\(index)
                        http:
                          method: POST
                          url: "https://api.example.com/users/${{ input.user_id }}/items/\(index)"
                          headers: {Authorization: {secret: API_TOKEN}}
                          body: {amount: "${{ input.amount * 2.0 }}", step: \(index)}
                        retry: {attempts: 3, backoff: exponential, initial: 1s}

                    """
            case 1:
                yaml += """
                      - id: compute_\(index)
                        set:
                          total: "${{ steps.fetch_\(index - 1).body.items.filter(i, i.qty > 0).map(i, i.price).size() }}"
                          label: "step \(index) for ${{ input.user_id }}"

                    """
            case 2:
                yaml += """
                      - id: decide_\(index)
                        switch:
                          - when: ${{ steps.compute_\(index - 1).total > 3 }}
                            steps: [{id: big_\(index), set: {v: "${{ steps.fetch_\(index - 2).status }}"}}]
                          - default: [{id: small_\(index), set: {v: 0}}]

                    """
            default:
                yaml += """
                      - id: pause_\(index)
                        sleep: 1m

                    """
            }
        }
        return yaml
    }
}
