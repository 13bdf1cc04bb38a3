import Foundation
import Testing
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime
import StepwiseTesting

/// `parallel`, `for_each` and the steps the engine completes, driven in memory cold and warm
/// (the journals, outputs and requests of both must agree).
@Suite("Interpreter: groups and engine operations")
struct GroupInterpreterTests {
    let base = InterpreterTests()

    @Test("every branch of a parallel step submits its next step in the same delivery; the result is {branch: output}")
    func parallelBranches() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: both
                parallel:
                  left:
                    - id: a
                      http: {url: "https://api.example.com/a"}
                    - id: a2
                      http: {url: "https://api.example.com/a2"}
                  right:
                    - id: b
                      http: {url: "https://api.example.com/b"}
            output: {left: "${{ steps.both.left.status }}", right: "${{ steps.both.right.status }}", a: "${{ steps.a.status }}"}
            """
        let outcome = try await base.run(yaml) {
            ScriptedTransport(["https://api.example.com/a": [ScriptedTransport.json(200, "{}"), ScriptedTransport.json(201, "{}")],
                               "https://api.example.com/b": [ScriptedTransport.json(202, "{}")]])
        }
        #expect(outcome.finish.status == "succeeded")
        #expect(outcome.finish.output == ["left": 201, "right": 202, "a": 200])
        // a and b in the first delivery, a2 in the second, the output in the third.
        #expect(outcome.finish.journal.map(\.stepName) == ["init", "both.left.a", "both.right.b", "both.left.a2"])
        #expect(outcome.finish.deliveries == 3)
    }

    @Test("for_each runs at most `concurrency` items at once, in item order, with indexed paths and outputs in item order")
    func forEachWaves() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: fan
                for_each:
                  items: ${{ input.names }}
                  concurrency: 2
                  steps:
                    - id: greet
                      http: {url: "https://api.example.com/greet/${{ item }}"}
                    - id: shout
                      set: {text: "${{ index }}-${{ item.upperAscii() }}"}
            output: ${{ steps.fan.map(s, s.text) }}
            """
        let outcome = try await base.run(yaml, input: ["names": ["ada", "bob", "cy", "dee", "eve"]]) {
            ScriptedTransport(["https://api.example.com/greet": Array(repeating: ScriptedTransport.json(200, "{}"), count: 5)])
        }
        #expect(outcome.finish.output == ["0-ADA", "1-BOB", "2-CY", "3-DEE", "4-EVE"])
        #expect(outcome.finish.journal.dropFirst().map(\.stepName) == (0..<5).map { "fan[\($0)].greet" })
        // Waves of two: [0, 1], [2, 3], [4], then the output.
        #expect(outcome.finish.deliveries == 4)
        // Requests of one wave are sent concurrently, so only the waves are ordered.
        let keys = outcome.requests.map { $0.header("Idempotency-Key") ?? "" }
        #expect(Set(keys.prefix(2)) == ["run-1/fan[0].greet", "run-1/fan[1].greet"])
        #expect(Set(keys.dropFirst(2).prefix(2)) == ["run-1/fan[2].greet", "run-1/fan[3].greet"])
        #expect(keys.last == "run-1/fan[4].greet")
    }

    @Test("groups nest: a for_each inside a parallel branch, sleeps parked per branch, an empty for_each is []")
    func nestedGroups() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: work
                parallel:
                  loop:
                    - id: each
                      for_each:
                        items: [1, 2, 3]
                        steps:
                          - id: pause
                            sleep: "${{ duration(string(item) + 's') }}"
                          - id: double
                            set: {value: "${{ item * 2 }}"}
                  none:
                    - id: empty
                      for_each: {items: [], steps: [{id: never, set: {x: 1}}]}
            output: {values: "${{ steps.work.loop.map(v, v.value) }}", empty: "${{ steps.work.none }}"}
            """
        let outcome = try await base.run(yaml)
        #expect(outcome.finish.output == ["values": [2, 4, 6], "empty": []])
        #expect(Set(outcome.finish.journal.dropFirst().map(\.stepName)) == Set((0..<3).map { "work.loop.each[\($0)].pause" }))
    }

    @Test("a wait that nobody notifies times out with {received: false, timed_out: true}")
    func waitTimeout() async throws {
        let outcome = try await base.run("""
            workflow: test
            steps:
              - id: answer
                wait_for_event: {event: "reply-${{ input.id }}", timeout: 2h}
            output: ${{ steps.answer }}
            """, input: ["id": 7])
        #expect(outcome.finish.output == ["received": false, "timed_out": true, "data": .null])
        #expect(outcome.finish.journal.last?.stepType == .wait)
    }

    @Test("an event name that evaluates to blank text or holds a control character fails the step: no notify could name it", arguments: [
        ("wait_for_event: {event: \"${{ input.id }}\", timeout: 2h}", " ", #"the event name is blank: " ""#),
        ("notify: {event: \"${{ input.id + input.id }}\"}", " ", #"the event name is blank: "  ""#),
        ("wait_for_event: {event: \"${{ input.id }}\", timeout: 2h}", "a\u{0}b", #"the event name holds a control character: "a\u0000b""#),
    ])
    func refusedEventNames(step: String, id: String, message: String) async throws {
        let outcome = try await base.run("""
            workflow: test
            steps:
              - id: answer
                \(step)
            """, input: ["id": .string(id)])
        #expect(outcome.finish.status == "failed")
        #expect(outcome.finish.error?.message == message)
        #expect(outcome.finish.error?.step == "answer")
    }

    @Test("a flow-control key with a control character is refused where it is computed")
    func controlCharactersInKeys() throws {
        let file = WorkflowFile(path: "keyed.yaml", source: """
            workflow: keyed
            concurrency: {key: "${{ input.tenant }}", limit: 1}
            steps: [{id: a, return: 1}]
            """)
        let workflow = try #require(file.workflow)
        #expect(throws: EvaluationError("the concurrency key holds a control character")) {
            try FlowControlKeys(workflow: workflow, input: ["tenant": "t\n1"], runId: "r")
        }
        #expect(try FlowControlKeys(workflow: workflow, input: ["tenant": "t1"], runId: "r").concurrency == "t1")
    }

    /// A list of 100-character texts that doubles `levels` times by sharing: tiny in memory,
    /// `100 × 2^levels` characters once written.
    static func doubling(_ levels: Int) -> String {
        var expression = "v\(levels)"
        for level in stride(from: levels, to: 0, by: -1) { expression = "cel.bind(v\(level), [v\(level - 1), v\(level - 1)], \(expression))" }
        return "cel.bind(v0, '\(String(repeating: "x", count: 100))', \(expression))"
    }

    /// The standard limits with 1 MiB of written value, so that tests build values past it quickly.
    static let smallWrites = EvaluationLimits(
        maximumSteps: EvaluationLimits.standard.maximumSteps, maximumMemoryBytes: EvaluationLimits.standard.maximumMemoryBytes, maximumWrittenBytes: 1 << 20)

    /// A run of `rest` (steps and output, as YAML) after a step `big` whose `v` is 422 KB written
    /// as JSON, under `smallWrites`.
    private func afterBigValue(_ rest: String) async throws -> InterpreterTests.Outcome {
        let big = "workflow: test\nsteps:\n  - id: big\n    set: {v: \"${{ \(Self.doubling(12)) }}\"}\n"
        return try await base.run(big + rest, limits: Self.smallWrites)
    }

    /// Steps that copy `big.v` three times into a `for_each` result: 1.3 MB written as JSON.
    private static let threeCopies = """
          - id: copies
            for_each:
              items: ${{ [1, 2, 3] }}
              steps:
                - id: copy
                  set: {v: "${{ steps.big.v }}"}

        """

    @Test("a map whose keys collide as JSON (1 and '1') fails the set step, the return or the output that made it, rather than losing a key or the output")
    func keysThatCollideAsJSON() async throws {
        let set = try await base.run("""
            workflow: test
            steps:
              - id: m
                set: {both: "${{ {1: 'int key', '1': 'string key'} }}"}
            output: done
            """)
        #expect(set.finish.status == "failed")
        #expect(set.finish.error?.type == "ValueNotJSON")
        #expect(set.finish.error?.step == "m")
        #expect(set.finish.error?.message.contains(#"two keys written as "1""#) == true, "\(String(describing: set.finish.error))")
        let output = try await base.run("""
            workflow: test
            steps:
              - id: ok
                set: {n: 1}
            output: "${{ [{true: 1, 'true': 2}] }}"
            """)
        #expect(output.finish.error?.type == "ValueNotJSON")
        #expect(output.finish.error?.step == "output")
        let returned = try await base.run("""
            workflow: test
            steps:
              - id: done
                return: "${{ {'a': {false: 'x', 'false': 'y'}} }}"
            """)
        #expect(returned.finish.error?.step == "done")
        let distinct = try await base.run("""
            workflow: test
            steps:
              - id: m
                set: {keys: "${{ {1: 'one', 'two': 2} }}"}
            output: ${{ steps.m.keys }}
            """)
        #expect(distinct.finish.output?.jsonText() == #"{"1":"one","two":2}"#, "keys that stay distinct are written as strings")
    }

    @Test("a value nested deeper than 500 levels fails the step, the output or the invoke that builds it, which JSON could not read back")
    func valuesTooDeepToKeep() async throws {
        var input: Value = 1
        for _ in 0..<499 { input = ["w": input] }
        let wrapped = try await base.run("""
            workflow: test
            steps:
              - id: wrap
                set: {w: {w: {w: "${{ input }}"}}}
            output: ${{ steps.wrap }}
            """, input: input)
        #expect(wrapped.finish.status == "failed")
        #expect(wrapped.finish.error?.message.contains("nested deeper than 500 levels") == true, "\(String(describing: wrapped.finish.error))")
        #expect(wrapped.finish.error?.step == "wrap")
        let output = try await base.run("""
            workflow: test
            steps:
              - id: ok
                set: {n: 1}
            output: {w: "${{ input }}"}
            """, input: ["w": input])
        #expect(output.finish.error?.message.contains("nested deeper than 500 levels") == true, "\(String(describing: output.finish.error))")
        #expect(output.finish.error?.step == "output")
        // A level a step: each set step's result wraps the one before in a level of its own.
        let chained = try await base.run("""
            workflow: test
            steps:
              - id: one
                set: {a: "${{ input }}"}
              - id: two
                set: {a: "${{ steps.one }}"}
            output: done
            """, input: input)
        #expect(chained.finish.error?.type == "ValueTooDeep" && chained.finish.error?.step == "two", "\(String(describing: chained.finish.error))")
        // 500 levels are kept.
        let kept = try await base.run("workflow: test\nsteps:\n  - id: ok\n    set: {v: \"${{ input }}\"}\noutput: ${{ steps.ok }}\n", input: input)
        #expect(kept.finish.output == ["v": input])
    }

    @Test("a value that doubles by sharing is refused once it is larger than the limit written as JSON: in an expression, a step's result, a return or the output; a step's catch sees it")
    func valuesTooLargeToWrite() async throws {
        let expression = try await base.run("""
            workflow: test
            steps:
              - id: big
                set: {v: "${{ \(Self.doubling(16)) }}"}
            output: ${{ steps.big.v }}
            """, limits: Self.smallWrites)
        #expect(expression.finish.status == "failed")
        #expect(expression.finish.error?.message == "the value is larger than 1 MiB written as JSON")
        #expect(expression.finish.error?.step == "big")

        let result = try await afterBigValue(Self.threeCopies + "output: done\n")
        #expect(result.finish.status == "failed")
        #expect(result.finish.error?.type == "ValueTooLarge")
        #expect(result.finish.error?.message == "the result of step 'copies' is larger than 1 MiB written as JSON; keep large data outside the run and pass references to it")

        let output = try await afterBigValue(#"output: {a: "${{ steps.big.v }}", b: "${{ steps.big.v }}", c: "${{ steps.big.v }}"}"# + "\n")
        #expect(output.finish.error?.message == "the value is larger than 1 MiB written as JSON")
        #expect(output.finish.error?.step == "output")

        let returned = try await afterBigValue("  - id: done\n" + #"    return: ["${{ steps.big.v }}", "${{ steps.big.v }}", "${{ steps.big.v }}"]"# + "\n")
        #expect(returned.finish.error?.message == "the value is larger than 1 MiB written as JSON")
        #expect(returned.finish.error?.step == "done")

        let caught = try await afterBigValue(Self.threeCopies + """
                catch:
                  - id: instead
                    set: {type: "${{ error.type }}"}
            output: ${{ steps.copies }}

            """)
        #expect(caught.finish.output == ["type": "ValueTooLarge"], "a step's own catch handles its result being too large")

        // `steps` as a whole is bounded only step by step, and text of several parts only as a whole.
        let wholeSteps = try await afterBigValue((1...3).map { "  - id: s\($0)\n    set: {v: \"${{ steps }}\"}\n" }.joined())
        #expect(wholeSteps.finish.error?.message == "the value is larger than 1 MiB written as JSON")
        #expect(wholeSteps.finish.error?.step == "s3", "s2 holds big twice, s3 four times")
        let text = try await afterBigValue("  - id: joined\n" + #"    set: {v: "${{ steps.big.v }} ${{ steps.big.v }} ${{ steps.big.v }}"}"# + "\n")
        #expect(text.finish.error?.message == "the value is larger than 1 MiB written as JSON")
        #expect(text.finish.error?.step == "joined")

        let fits = try await afterBigValue("output: ${{ size(steps.big.v) }}\n")
        #expect(fits.finish.output == 2, "422 KB as JSON is kept")
    }

    @Test("a parked step is blocked while pending: the delivery submits nothing and reports it")
    func pendingStepBlocks() async throws {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make("""
            workflow: test
            steps:
              - id: nap
                sleep: 1h
            """, transport: ScriptedTransport([:]), warm: false, clock: clock)
        let outcome = await driver.runner.deliver(Delivery(
            runId: "r", workflow: "test", definitionHash: driver.hash, journal: [.initial([:])], startedAt: clock.now, pending: ["nap"]))
        #expect(outcome == .blocked)
    }

    @Test("a query goes before the URL's fragment, which no HTTP client sends; values are percent-encoded there, kept as they are in the URL")
    func queryGoesBeforeTheFragment() async throws {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make("""
            workflow: test
            steps:
              - id: ask
                call:
                  url: "https://api.example.com/${{ input.page }}"
                  query: {q: "${{ input.q }}"}
            """, transport: ScriptedTransport([:]), warm: false, clock: clock)
        let outcome = await driver.runner.deliver(Delivery(
            runId: "r", workflow: "test", definitionHash: driver.hash, journal: [.initial(["page": "a?x=1#top", "q": "a#b c"])], startedAt: clock.now))
        guard case .submitted(let submissions) = outcome, case .park(let operation)? = submissions.first, case .call(let request) = operation.kind else {
            Issue.record("expected a parked call, got \(outcome)")
            return
        }
        #expect(request.url == "https://api.example.com/a?x=1&q=a%23b%20c#top")
    }

    @Test("a call is handed to the engine with its rendered request; secrets stay references")
    func callIsParked() async throws {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make("""
            workflow: test
            secrets: [API_KEY]
            steps:
              - id: ask
                call:
                  method: POST
                  url: "https://llm.example.com/v1/${{ input.model }}"
                  auth: {bearer: {secret: API_KEY}}
                  body: {prompt: hi}
                  timeout: 2h
            """, transport: ScriptedTransport([:]), warm: false, clock: clock, secrets: ["API_KEY": "s3cr3t"])
        let outcome = await driver.runner.deliver(Delivery(
            runId: "r", workflow: "test", definitionHash: driver.hash, journal: [.initial(["model": "m1"])], startedAt: clock.now))
        guard case .submitted(let submissions) = outcome, case .park(let operation)? = submissions.first,
            case .call(let request) = operation.kind
        else {
            Issue.record("expected a parked call, got \(outcome)")
            return
        }
        #expect(request.url == "https://llm.example.com/v1/m1")
        #expect(request.timeout.nanoseconds == 7_200 * 1_000_000_000)
        #expect(request.headers.contains(CallHeader(name: "Authorization", value: .bearer(.secret("API_KEY")))))
        #expect(!operation.json.jsonText().contains("s3cr3t"))
        #expect(try request.outgoing(secrets: EnvironmentSecrets(["API_KEY": "s3cr3t"])).header("Authorization") == "Bearer s3cr3t")
        #expect(CallRequest(json: request.json) == request)
    }

    @Test("a sleep may be given as text such as '3d' (from env); response: text keeps a JSON body as text")
    func sleepTextAndResponseFormat() async throws {
        let outcome = try await base.run("""
            workflow: test
            env: {PAUSE: 3d}
            steps:
              - id: pause
                sleep: ${{ env.PAUSE }}
              - id: raw
                http: {url: "https://api.example.com/raw", response: text}
            output: {until: "${{ steps.pause.until }}", raw: "${{ steps.raw.body }}"}
            """) { ScriptedTransport(["https://api.example.com/raw": [ScriptedTransport.json(200, #"{"a":1}"#)]]) }
        #expect(outcome.finish.output == ["until": "2026-01-04T00:00:00Z", "raw": #"{"a":1}"#])
    }
}
