import Foundation
import StepwiseExpressions
import StepwiseProtocol
@testable import StepwiseRunner
import StepwiseRuntime
import StepwiseTesting
import Testing

/// The runner against a simulated QStash that delivers pending messages in every possible order,
/// and at least once: whatever the interleaving of plan and result deliveries, every step runs
/// once and the run ends with the in-order output.
@Suite("Runner under every delivery interleaving")
struct InterleavingTests {
    static let apis = [
        "http://api.test/a": answer(200, "1"), "http://api.test/b": answer(200, "2"), "http://api.test/c": answer(200, "3"),
        "http://api.test/next": answer(200, "4"),
    ]

    static let triple = """
        workflow: triple
        steps:
          - id: all
            parallel:
              a: [{id: fa, http: {url: "http://api.test/a"}}]
              b: [{id: fb, http: {url: "http://api.test/b"}}]
              c: [{id: fc, http: {url: "http://api.test/c"}}]
          - id: after
            http: {url: "http://api.test/next"}
        output: {a: "${{ steps.all.a.body }}", b: "${{ steps.all.b.body }}", c: "${{ steps.all.c.body }}", after: "${{ steps.after.body }}"}
        """

    static let window = """
        workflow: window
        steps:
          - id: each
            for_each:
              items: [a, b, c]
              concurrency: 2
              steps:
                - id: fetch
                  http: {url: "http://api.test/${{ item }}"}
          - id: after
            http: {url: "http://api.test/next"}
        output: {bodies: "${{ steps.each.map(s, s.body) }}", after: "${{ steps.after.body }}"}
        """

    static let cases: [(String, Value)] = [
        (triple, ["a": 1, "b": 2, "c": 3, "after": 4]),
        (window, ["bodies": [1, 2, 3], "after": 4]),
    ]

    /// Cold: every delivery replays the log from the start; warm: the runner resumes from the state
    /// of the run's last delivery with the entries after it (and the log is read from the bytes
    /// it already decoded).
    @Test(arguments: cases, [0, 10])
    func everyOrderOfDeliveriesRunsEachStepOnceToTheSameOutput(_ workflow: (yaml: String, output: Value), warmRuns: Int) async throws {
        let (yaml, output) = workflow
        var explored = 0
        var pending: [[Int]] = [[]]
        // Depth-first over the choice of which pending delivery goes next; a path is a list of choices.
        while let prefix = pending.popLast() {
            let simulation = try await Simulation(yaml, warmRuns: warmRuns)
            let choices = try await simulation.run(choosing: prefix)
            explored += 1
            if let options = choices {
                pending.append(contentsOf: (0..<options).map { prefix + [$0] })
                continue
            }
            let requests = simulation.transcript.api.requests.map(\.url).sorted()
            #expect(requests == Self.apis.keys.sorted(), "path \(prefix): every step once")
            #expect(simulation.output == output, "path \(prefix)")
            #expect(simulation.duplicateSteps.isEmpty, "path \(prefix): \(simulation.duplicateSteps)")
        }
        #expect(explored > 20, "the exploration covered many interleavings (\(explored))")
    }

    @Test(arguments: cases, [0, 10])
    func everyDeliveryMadeTwiceRecordsEachStepOnceAndRepeatsRequestsWithTheirKey(_ workflow: (yaml: String, output: Value), warmRuns: Int) async throws {
        let (yaml, output) = workflow
        let simulation = try await Simulation(yaml, deliverTwice: true, warmRuns: warmRuns)
        #expect(try await simulation.run(choosing: [], exploring: false) == nil)
        #expect(simulation.output == output)
        // At least once: a prefix delivered again runs its step again (QStash's model), with the
        // same Idempotency-Key, and only the first result enters the log.
        let keys = Dictionary(grouping: simulation.transcript.api.requests, by: \.url).mapValues { Set($0.map { $0.header("Idempotency-Key") }) }
        #expect(keys.keys.sorted() == Self.apis.keys.sorted())
        #expect(keys.values.allSatisfy { $0.count == 1 && !$0.contains(nil) }, "\(keys)")
        #expect(!simulation.duplicateSteps.isEmpty, "the repeated deliveries published their steps again, and QStash dropped them")
    }
}

/// QStash as the runner sees it: a log per run, a delivery per message appended, delivered in
/// the order the test chooses; published steps are deduplicated as QStash deduplicates them.
final class Simulation {
    let transcript: EndpointTranscript
    let deliverTwice: Bool
    private var log: [RawStep] = [EndpointTranscript.initial()]
    private var seenKeys: Set<String> = []
    /// Result steps published again after they were logged (QStash drops them).
    private(set) var duplicateSteps: [String] = []
    private(set) var output: Value?

    init(_ yaml: String, deliverTwice: Bool = false, warmRuns: Int = 0) async throws {
        transcript = try await EndpointTranscript(yaml, api: InterleavingTests.apis, warmRuns: warmRuns)
        self.deliverTwice = deliverTwice
    }

    /// Delivers the pending messages, at each point the one `choices` names; past `choices`, the
    /// number of pending deliveries at the first point with more than one (or, not `exploring`,
    /// the first one goes on); `nil` when the run ended with every choice made.
    func run(choosing choices: [Int], exploring: Bool = true) async throws -> Int? {
        var waiting = [0]
        var made = 0
        while !waiting.isEmpty, output == nil {
            if waiting.count > 1, made == choices.count, exploring { return waiting.count }
            let pick = waiting.count > 1 && made < choices.count ? choices[made] : 0
            if waiting.count > 1 { made += 1 }
            let position = waiting.remove(at: pick)
            for _ in 0..<(deliverTwice ? 2 : 1) {
                let seen = transcript.qstash.requests.count
                let reply = await transcript.deliver(Array(log[...position]))
                guard reply.status == 200 else { throw WaitTimeout(description: "delivery of \(position) answered \(reply.status): \(reply.body)") }
                waiting += try publish(transcript.qstashRequests(after: seen))
            }
        }
        return nil
    }

    /// Appends what the runner published; the positions of the new entries to deliver.
    private func publish(_ requests: [OutgoingRequest]) throws -> [Int] {
        var fresh: [Int] = []
        for request in requests {
            if request.method == "DELETE" {
                output = try Value(json: String(decoding: request.body ?? [], as: UTF8.self))
                continue
            }
            for step in try EndpointTranscript.batchSteps(request) {
                let key = step.isPlan ? "plan:\(step.targetStep ?? 0)" : "step:\(step.stepId)"
                guard seenKeys.insert(key).inserted else {
                    if !step.isPlan { duplicateSteps.append(step.stepName) }
                    continue
                }
                log.append(RawStep(messageId: "msg_\(log.count)", body: step.bytes))
                fresh.append(log.count - 1)
            }
        }
        return fresh
    }
}
