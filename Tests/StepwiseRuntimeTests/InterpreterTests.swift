import Foundation
import Testing
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting

/// The interpreter and replay context, driven to completion in memory. Every scenario runs twice,
/// with a cold runner (replays from the start at each delivery) and a warm one (resumes from
/// memory); journals and outputs must be identical.
@Suite("Interpreter")
struct InterpreterTests {
    struct Outcome: Equatable {
        var finish: RunDriver.Finish
        var requests: [OutgoingRequest]
    }

    /// Runs `yaml` cold and warm with fresh transports from `script`, checks both agree, returns the cold one.
    func run(
        _ yaml: String, input: Value = [:], script: @escaping () -> ScriptedTransport = { ScriptedTransport([:]) },
        secrets: [String: String] = [:], limits: EvaluationLimits = .standard
    ) async throws -> Outcome {
        var outcomes: [Outcome] = []
        for warm in [false, true] {
            let transport = script()
            let clock = try VirtualClock.at()
            let driver = try await RunDriver.make(yaml, transport: transport, warm: warm, clock: clock, secrets: secrets, limits: limits)
            outcomes.append(Outcome(finish: await driver.run(input: input, clock: clock), requests: transport.requests))
        }
        #expect(outcomes[0].finish.journal == outcomes[1].finish.journal, "warm and cold journals differ")
        #expect(outcomes[0].finish.output == outcomes[1].finish.output)
        // Requests of parallel branches are sent concurrently: compare them in a stable order.
        let sorted = outcomes.map { $0.requests.sorted { ($0.url, $0.header("Idempotency-Key") ?? "") < ($1.url, $1.header("Idempotency-Key") ?? "") } }
        #expect(sorted[0] == sorted[1])
        return outcomes[0]
    }

    @Test("set, switch and if are recomputed; http results are journaled in order")
    func sequence() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: fetch
                http: {url: "https://api.example.com/users/${{ input.id }}"}
              - id: greeting
                set: {text: "Hello, ${{ steps.fetch.body.name }}"}
              - id: route
                switch:
                  - when: ${{ steps.fetch.body.vip }}
                    steps: [{id: vip, set: {tier: gold}}]
                  - default: [{id: normal, set: {tier: basic}}]
              - id: skipped
                if: ${{ false }}
                http: {url: "https://api.example.com/never"}
              - id: notify
                http:
                  method: POST
                  url: https://mail.example.com/send
                  body: {text: "${{ steps.greeting.text }}", tier: "${{ steps.route.tier }}"}
            output: "${{ {'tier': steps.route.tier, 'skipped': steps.skipped, 'mail': steps.notify.status} }}"
            """
        let outcome = try await run(yaml, input: ["id": "u1"]) {
            ScriptedTransport([
                "https://api.example.com/users": [ScriptedTransport.json(200, #"{"name": "Ada", "vip": true}"#)],
                "https://mail.example.com": [ScriptedTransport.json(202, "{}")],
            ])
        }
        #expect(outcome.finish.status == "succeeded")
        #expect(outcome.finish.output == ["tier": "gold", "skipped": .null, "mail": 202])
        #expect(outcome.finish.journal.map(\.stepName) == ["init", "fetch", "notify"])
        #expect(outcome.requests.map(\.url) == ["https://api.example.com/users/u1", "https://mail.example.com/send"])
        #expect(outcome.requests[1].body.map { String(decoding: $0, as: UTF8.self) } == #"{"text":"Hello, Ada","tier":"gold"}"#)
        #expect(outcome.requests[0].header("Idempotency-Key") == "run-1/fetch")
    }

    @Test("a step's timeout and its request's own: the shorter limits the request, either alone does, else the default")
    func shorterTimeoutWins() async throws {
        let yaml = """
            workflow: limits
            steps:
              - id: a
                timeout: 5s
                http: {url: "https://api.example.com/a", timeout: 500ms}
              - id: b
                timeout: 500ms
                http: {url: "https://api.example.com/b", timeout: 5s}
              - id: c
                timeout: 2s
                http: {url: "https://api.example.com/c"}
              - id: d
                http: {url: "https://api.example.com/d", timeout: 3s}
              - id: e
                http: {url: "https://api.example.com/e"}
            """
        let outcome = try await run(yaml) {
            ScriptedTransport(Dictionary(uniqueKeysWithValues: ["a", "b", "c", "d", "e"].map { ("https://api.example.com/\($0)", [ScriptedTransport.json(200, "{}")]) }))
        }
        #expect(outcome.finish.status == "succeeded")
        let expected = try ["500ms", "500ms", "2s", "3s", "30s"].map { try DurationValue(parsing: $0) }
        #expect(outcome.requests.map(\.timeout) == expected)
    }

    @Test("a run ends in the delivery of its last step; an output that cannot be computed fails the run with that step recorded once")
    func endsWithItsLastStep() async throws {
        let script = {
            ScriptedTransport([
                "https://api.example.com/a": [ScriptedTransport.json(200, #"{"n": 1}"#)],
                "https://api.example.com/b": [ScriptedTransport.json(200, #"{"n": 2}"#)],
            ])
        }
        let steps = """
            workflow: test
            steps:
              - id: a
                http: {url: "https://api.example.com/a"}
              - id: b
                http: {url: "https://api.example.com/b"}
            """
        let summing = steps + "\noutput: ${{ steps.a.body.n + steps.b.body.n }}"
        let ended = try await run(summing, script: script)
        #expect(ended.finish.status == "succeeded")
        #expect(ended.finish.output == 3)
        #expect(ended.finish.journal.map(\.stepName) == ["init", "a", "b"])
        for warm in [false, true] {
            let clock = try VirtualClock.at()
            let driver = try await RunDriver.make(summing, transport: script(), warm: warm, clock: clock)
            let finish = await driver.run(input: [:], clock: clock)
            #expect(finish.deliveries == 2, "one delivery per step, the last one ending the run (warm: \(warm))")
        }

        let broken = try await run(steps + "\noutput: ${{ steps.b.body.missing }}", script: script)
        #expect(broken.finish.status == "failed")
        #expect(broken.finish.error?.message.contains("missing") == true)
        #expect(broken.finish.journal.map(\.stepName) == ["init", "a", "b"])
        #expect(broken.requests.map(\.url) == ["https://api.example.com/a", "https://api.example.com/b"])
    }

    @Test("a run ends with its last durable step when only set, switch and return follow it; a durable step after it, even in a branch not taken, leaves the end to the next delivery")
    func endsWithItsLastDurableStep() async throws {
        let script = { ScriptedTransport(["https://api.example.com/a": [ScriptedTransport.json(200, #"{"n": 2}"#)]]) }
        let pureTail = """
            workflow: test
            steps:
              - id: a
                http: {url: "https://api.example.com/a"}
              - id: doubled
                set: {n: "${{ steps.a.body.n * 2 }}"}
              - id: route
                switch:
                  - when: ${{ steps.doubled.n > 3 }}
                    steps: [{id: big, return: "big ${{ steps.doubled.n }}"}]
                  - default: [{id: small, set: {size: small}}]
            """
        let durableTail = pureTail.replacingOccurrences(of: "[{id: small, set: {size: small}}]", with: #"[{id: small, http: {url: "https://api.example.com/b"}}]"#)
        // A tail that fails or cancels ends the run as it did before, in a later delivery.
        for (stop, status, reason) in [("fail: {message: \"too big\"}", "failed", "too big"), ("cancel: \"too big\"", "canceled", "too big")] {
            let stopping = pureTail.replacingOccurrences(of: #"return: "big ${{ steps.doubled.n }}""#, with: stop)
            let outcome = try await run(stopping, script: script)
            #expect(outcome.finish.status == status)
            #expect(outcome.finish.error?.message == reason)
            #expect(outcome.finish.journal.map(\.stepName) == ["init", "a"])
            #expect(outcome.requests.count == 1)
        }
        for (yaml, deliveries) in [(pureTail, 1), (durableTail, 2)] {
            let outcome = try await run(yaml, script: script)
            #expect(outcome.finish.status == "succeeded")
            #expect(outcome.finish.output == "big 4")
            #expect(outcome.finish.journal.map(\.stepName) == ["init", "a"])
            for warm in [false, true] {
                let clock = try VirtualClock.at()
                let finish = try await RunDriver.make(yaml, transport: script(), warm: warm, clock: clock).run(input: [:], clock: clock)
                #expect(finish.deliveries == deliveries, "warm: \(warm)")
            }
        }
    }

    @Test("sleep and sleep_until journal their wake-up time and resume after it")
    func sleeps() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: pause
                sleep: 3d
              - id: until
                sleep_until: "2026-02-01T09:00:00Z"
            output: ${{ [steps.pause.until, steps.until.until] }}
            """
        let outcome = try await run(yaml)
        #expect(outcome.finish.output == ["2026-01-04T00:00:00Z", "2026-02-01T09:00:00Z"])
        #expect(outcome.finish.journal.map(\.stepType) == [.initial, .sleepFor, .sleepUntil])
    }

    @Test("a failing request is retried by its policy, then the catch steps run with error in scope")
    func retryThenCatch() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: charge
                http: {method: POST, url: "https://pay.example.com/charge", expect: {status: [200]}}
                retry: {attempts: 3, backoff: constant, initial: 1s, on: [503]}
                catch:
                  - id: refund
                    set: {reason: "${{ error.message }}", status: "${{ error.status }}"}
            output: ${{ steps.charge }}
            """
        let outcome = try await run(yaml) {
            ScriptedTransport(["https://pay.example.com": [ScriptedTransport.json(503, #"{"e": 1}"#)]])
        }
        #expect(outcome.requests.count == 3)
        #expect(outcome.finish.status == "succeeded")
        #expect(outcome.finish.output?["status"] == 503)
        #expect(outcome.finish.journal.last?.error?.type == "HTTPError")
        #expect(outcome.requests.allSatisfy { $0.header("Idempotency-Key") == "run-1/charge" })
    }

    @Test("by default connection errors and timeouts are retried; an invalid request or a response too large is not")
    func defaultRetries() async throws {
        let failures: [(host: String, failure: TransportFailure)] = [
            ("flaky.example.com", TransportFailure(.connection, "refused")),
            ("slow.example.com", TransportFailure(.timeout, "no complete response")),
            ("huge.example.com", TransportFailure(.responseTooLarge, "larger than 10485760 bytes")),
            ("socket.example.com", TransportFailure(.invalidRequest, "only http and https URLs are requested")),
        ]
        // One step per failure, each caught so that the run goes on to the next.
        let steps = failures.indices.map { index in
            "  - id: s\(index)\n    http: {url: \"https://\(failures[index].host)/x\"}\n"
                + "    catch: [{id: c\(index), set: {type: \"${{ error.type }}\"}}]\n"
        }
        let yaml = "workflow: test\nretries: 2\nsteps:\n" + steps.joined()
            + "output: ${{ [steps.s0.type, steps.s1.type, steps.s2.type, steps.s3.type] }}\n"
        let outcome = try await run(yaml) {
            ScriptedTransport(Dictionary(uniqueKeysWithValues: failures.map { ("https://\($0.host)", [.failure($0.failure)]) }))
        }
        #expect(outcome.finish.output == ["ConnectionError", "Timeout", "ResponseTooLarge", "InvalidRequest"])
        let tries = Dictionary(grouping: outcome.requests.compactMap { URL(string: $0.url)?.host }, by: { $0 }).mapValues(\.count)
        #expect(tries == ["flaky.example.com": 3, "slow.example.com": 3, "huge.example.com": 1, "socket.example.com": 1])
    }

    @Test("a status outside retry.on fails at once; without catch the run fails and on_failure runs once")
    func failureHandler() async throws {
        let yaml = """
            workflow: test
            steps:
              - id: charge
                http: {url: "https://pay.example.com/charge", expect: {status: [200]}}
                retry: {attempts: 5, on: [503]}
              - id: never
                http: {url: "https://never.example.com"}
            on_failure:
              - id: alert
                http: {method: POST, url: "https://hooks.example.com/alert", body: {error: "${{ error.message }}", step: "${{ error.step }}"}}
            """
        let outcome = try await run(yaml) {
            ScriptedTransport([
                "https://pay.example.com": [ScriptedTransport.json(400, #"{"e": "bad card"}"#)],
                "https://hooks.example.com": [ScriptedTransport.json(200, "{}")],
            ])
        }
        #expect(outcome.finish.status == "failed")
        #expect(outcome.finish.error?.step == "charge")
        #expect(outcome.requests.map(\.url) == ["https://pay.example.com/charge", "https://hooks.example.com/alert"])
        #expect(outcome.finish.journal.map(\.stepName) == ["init", "charge", "on_failure.alert"])
    }

    @Test("fail and return end the run with their values; secrets reach headers but not journals")
    func failReturnSecrets() async throws {
        let failing = try await run("""
            workflow: test
            steps:
              - id: check
                if: ${{ input.amount > 100 }}
                fail: {message: "amount ${{ input.amount }} is too high", type: Limit}
              - id: done
                return: ok
            """, input: ["amount": 500])
        #expect(failing.finish.error == StepError(message: "amount 500 is too high", type: "Limit", step: "check"))
        let secret = try await run("""
            workflow: test
            secrets: [TOKEN]
            steps:
              - id: call
                http: {url: "https://api.example.com/x", auth: {bearer: {secret: TOKEN}}}
              - id: done
                return: ${{ steps.call.status }}
            """, script: { ScriptedTransport(["https://api.example.com": [ScriptedTransport.json(200, "{}")]]) }, secrets: ["TOKEN": "s3cr3t"])
        #expect(secret.finish.output == 200)
        #expect(secret.requests.first?.header("Authorization") == "Bearer s3cr3t")
        #expect(!secret.finish.journal.map { $0.json.jsonText() }.joined().contains("s3cr3t"))
        let missing = try await run("""
            workflow: test
            secrets: [TOKEN]
            steps:
              - id: call
                http: {url: "https://api.example.com/x", auth: {bearer: {secret: TOKEN}}}
                catch:
                  - id: why
                    return: ${{ error.type }}
            """)
        #expect(missing.finish.output == "SecretMissing", "a missing secret is a failure of its own type, which catch can tell apart")
        #expect(missing.requests.isEmpty)
    }

    @Test("a header value from the input that HTTP cannot carry fails the step (InvalidRequest) naming the header, and nothing is sent")
    func unsendableHeaderValues() async throws {
        let outcome = try await run("""
            workflow: test
            steps:
              - id: call
                http: {url: "https://api.example.com/x", headers: {X-Note: "${{ input.note }}"}}
            """, input: ["note": "line one\r\nX-Injected: 1"])
        #expect(outcome.finish.error?.message.contains("the value of header 'X-Note' holds a line break or a control character") == true, "\(String(describing: outcome.finish.error))")
        #expect(outcome.finish.error?.type == "InvalidRequest", "the type retry.on and catch know it by")
        #expect(outcome.requests.isEmpty)
    }

    @Test("a journal that no longer fits the definition is a replay error naming both steps")
    func replayMismatch() async throws {
        let clock = try VirtualClock.at()
        let driver = try await RunDriver.make("""
            workflow: test
            steps:
              - id: second
                sleep: 1s
            """, transport: ScriptedTransport([:]), warm: false, clock: clock)
        let journal = [JournalEntry.initial([:]), JournalEntry(stepId: 1, stepName: "first", stepType: .run, out: 1)]
        let outcome = await driver.runner.deliver(Delivery(
            runId: "r", workflow: "test", definitionHash: driver.hash, journal: journal, startedAt: clock.now))
        guard case .rejected(let message) = outcome else {
            Issue.record("expected a rejection, got \(outcome)")
            return
        }
        #expect(message.contains("Run 'first'") && message.contains("SleepFor 'second'"))
    }

    @Test("journal entries round-trip through Upstash step JSON with out as JSON text")
    func journalJSON() throws {
        let entry = JournalEntry(stepId: 2, stepName: "fetch", stepType: .run, out: ["status": 200])
        let json = entry.json
        #expect(json["out"] == .string(#"{"status":200}"#))
        #expect(try JournalEntry(json: json) == entry)
    }
}
