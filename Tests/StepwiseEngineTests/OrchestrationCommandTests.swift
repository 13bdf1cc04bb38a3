import Foundation
import StepwiseEngine
import StepwiseExpressions
import Testing
import StepwiseTesting

/// The CLI's orchestration commands (`notify`, `waiters`, `dlq`, `schedules`, `cancel --workflow`)
/// run as the built `stepwise` against a real server on loopback.
@Suite("stepwise orchestration commands", .timeLimit(.minutes(3)))
struct OrchestrationCommandTests {
    /// Runs the built `stepwise` on a thread of its own.
    private func run(_ arguments: [String]) async throws -> CommandResult {
        try await onOwnThread { try stepwise(arguments: arguments) }
    }

    /// Runs the command, against `server` when given.
    private func cli(_ arguments: String..., server: RunningServer? = nil) async throws -> CommandResult {
        try await run(arguments + (server.map { ["--server", $0.url(""), "--token", RunningServer.token] } ?? []))
    }

    /// Runs the command against `server` and expects it to succeed; its standard output.
    private func succeeding(
        _ arguments: String..., on server: RunningServer, sourceLocation: Testing.SourceLocation = #_sourceLocation
    ) async throws -> String {
        let result = try await run(arguments + ["--server", server.url(""), "--token", RunningServer.token])
        #expect(result.status == 0, "stepwise \(arguments.joined(separator: " ")): \(result.standardError)", sourceLocation: sourceLocation)
        return result.standardOutput
    }

    @Test("notify prints the run it woke; waiters lists the waiting run; --run on an unknown run is a 404 with exit 1")
    func notifyWakesWaiter() async throws {
        let waiter = try definition("""
            workflow: waiter
            steps:
              - id: wait
                wait_for_event: {event: "go-${{ input.id }}", timeout: 1h}
            """)
        try await RunningServer.with([waiter]) { server in
            let id = try await server.startRun("waiter", #"{"id": "7"}"#)
            _ = try await eventually("the run to wait for go-7") { () -> Bool? in
                let answer = try await send(.GET, server.url("/v2/waiters/go-7"))
                return answer.json?.list?.contains { $0["workflowRunId"] == .string(id) } == true ? true : nil
            }
            let waiters = try await succeeding("waiters", "go-7", on: server)
            let row = try #require(waiters.split(separator: "\n").first { $0.hasPrefix(id) }, "\(waiters)")
            #expect(row.contains("waiter") && row.contains("wait"), "\(waiters)")
            #expect(waiters.hasPrefix("RUN"), "\(waiters)")

            #expect(try await succeeding("notify", "other", "--run", id, on: server).contains("stored"))
            let woke = try await succeeding("notify", "go-7", "--data", #"{"approved": true}"#, on: server)
            #expect(woke == "woke \(id)\n")
            #expect(try await finishedRun(id, in: server.store).status == .succeeded)
            #expect(try await succeeding("notify", "go-7", on: server).contains("no run is waiting for 'go-7'"))
            #expect(try await succeeding("waiters", "go-7", on: server).contains("no run is waiting"))

            let unknown = try await cli("notify", "go-7", "--run", "wfr_nope", server: server)
            #expect(unknown.status == 1)
            #expect(unknown.standardError.contains("404") && unknown.standardError.contains("no run with id 'wfr_nope'"), "\(unknown.standardError)")
            // A run id is one path segment, whatever it holds: the server names it, unknown.
            for follow in [[], ["--follow"]] {
                let mistyped = try await run(["logs", "wfr nope?x"] + follow + ["--server", server.url(""), "--token", RunningServer.token])
                #expect(mistyped.status == 1)
                #expect(mistyped.standardError.contains("no run with id 'wfr nope?x'"), "\(mistyped.standardError)")
            }
            let badData = try await cli("notify", "go-7", "--data", "{oops", server: server)
            #expect(badData.status == 2)
            #expect(badData.standardError.contains("--data is not valid JSON"), "\(badData.standardError)")
        }
    }

    @Test("dlq list shows a failed run; restart starts a new run; resume continues the same one; retry-callback asks the server; delete removes an entry")
    func deadLetters() async throws {
        let doomed = try definition("""
            workflow: doomed
            steps:
              - id: prepare
                set: {reason: "no ${{ input.what }}"}
              - id: boom
                fail: {message: "${{ steps.prepare.reason }}"}
            """)
        try await RunningServer.with([doomed]) { server in
            #expect(try await succeeding("dlq", "list", on: server).contains("empty"))
            let first = try await server.startRun("doomed", #"{"what": "luck"}"#)
            #expect(try await finishedRun(first, in: server.store).status == .failed)
            let list = try await succeeding("dlq", "list", on: server)
            let row = try #require(list.split(separator: "\n").first { $0.hasPrefix("dlq_\(first)") }, "\(list)")
            for cell in [first, "doomed", "boom", "no luck"] { #expect(row.contains(cell), "\(list)") }

            // A second entry: --limit takes the newest, --workflow filters.
            let second = try await server.startRun("doomed", #"{"what": "way"}"#)
            _ = try await finishedRun(second, in: server.store)
            let newest = try await succeeding("dlq", "list", "--limit", "1", on: server)
            #expect(newest.contains("dlq_\(second)") && !newest.contains("dlq_\(first)"), "\(newest)")
            #expect(try await succeeding("dlq", "list", "--workflow", "other", on: server).contains("no failed run of workflow 'other' is in the dead-letter queue"))
            #expect(try await succeeding("dlq", "list", "--workflow", "doomed", on: server).split(separator: "\n").count == 3, "a header and two rows")
            #expect(try await succeeding("dlq", "delete", "dlq_\(second)", on: server) == "deleted dlq_\(second)\n")

            let restarted = try await succeeding("dlq", "restart", "dlq_\(first)", on: server).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(restarted.hasPrefix("wfr_") && restarted != first, "\(restarted)")
            #expect(try await server.store.run(id: restarted)?.input == ["what": "luck"])
            _ = try await finishedRun(restarted, in: server.store)

            let resumed = try await succeeding("dlq", "resume", "dlq_\(restarted)", on: server)
            #expect(resumed == "\(restarted)\n")
            _ = try await eventually("the resumed run to fail again") { () -> Bool? in
                try await server.store.allDeadLetters().contains { $0.runId == restarted } ? true : nil
            }
            // A YAML run has no failure callback to send again: the server says so.
            let noCallback = try await cli("dlq", "retry-callback", "dlq_\(restarted)", server: server)
            #expect(noCallback.status == 1 && noCallback.standardError.contains("has no failure callback"), "\(noCallback.standardError)")
            #expect(try await succeeding("dlq", "delete", "dlq_\(restarted)", on: server) == "deleted dlq_\(restarted)\n")
            #expect(try await server.store.allDeadLetters().isEmpty)

            let missing = try await cli("dlq", "restart", "dlq_nope", server: server)
            #expect(missing.status == 1)
            #expect(missing.standardError.contains("no DLQ entry with id 'dlq_nope'"), "\(missing.standardError)")
        }
    }

    @Test("dlq restart, resume and delete take every entry a selection names, page after page; an id and a selection together are refused")
    func deadLettersInBulk() async throws {
        let doomed = try EngineFeatureTests.doomed()
        try await RunningServer.with([doomed]) { server in
            let failed = try await server.endedRuns(of: "doomed", labels: ["x", "x", "y"])
            let neither = try await run(["dlq", "resume", "--server", server.url(""), "--token", RunningServer.token])
            #expect(neither.status == 2 && neither.standardError.contains("give a DLQ entry id, or select entries"), "\(neither.standardError)")
            for (extra, reason) in [(["dlq_\(failed[0])", "--all"], "not both"), (["--all", "--label", "x"], "--all takes every entry: give it alone")] {
                let refused = try await run(["dlq", "delete"] + extra + ["--server", server.url(""), "--token", RunningServer.token])
                #expect(refused.status == 2 && refused.standardError.contains(reason), "\(extra): \(refused.standardError)")
            }
            #expect(try await server.store.allDeadLetters().count == 3, "a refused command does nothing")
            let nothing = try await run(["dlq", "restart", "--workflow", "no-such-workflow", "--server", server.url(""), "--token", RunningServer.token])
            #expect(nothing.status == 0 && nothing.standardError.contains("no DLQ entries matched"), "\(nothing.standardError)")

            let yamlRetries = try await run(["dlq", "resume", "dlq_\(failed[2])", "--retries", "1", "--server", server.url(""), "--token", RunningServer.token])
            #expect(yamlRetries.status == 1 && yamlRetries.standardError.contains("--retries (Upstash-Retries) cannot be given for a YAML run"), "\(yamlRetries.standardError)")

            let restarted = try await succeeding("dlq", "restart", "--label", "x", "--new-label", "z", on: server).split(separator: "\n").map(String.init)
            #expect(restarted.count == 2 && Set(restarted).isDisjoint(with: failed), "\(restarted)")
            for id in restarted { #expect(try await finishedRun(id, in: server.store).label == "z", "--new-label is the restarted runs' label") }
            #expect(try await Set(server.store.allDeadLetters().map(\.runId)) == Set([failed[2]] + restarted))
            #expect(try await succeeding("dlq", "delete", "--workflow", "doomed", on: server) == "deleted 3\n")
            #expect(try await server.store.allDeadLetters().isEmpty)
        }
    }

    @Test("cancel --workflow cancels every running run of the workflow; cancel RUN_ID still cancels one")
    func cancelWorkflow() async throws {
        let sleeper = try definition("""
            workflow: sleeper
            steps:
              - id: night
                sleep: 1h
            """)
        try await RunningServer.with([sleeper]) { server in
            let runs = [try await server.startRun("sleeper", "{}"), try await server.startRun("sleeper", "{}")]
            for id in runs { try await parked(id, "night", in: server.store) }
            let output = try await succeeding("cancel", "--workflow", "sleeper", on: server)
            #expect(Set(output.split(separator: "\n")) == Set(runs.map { "canceled \($0)" }), "\(output)")
            for id in runs { #expect(try await server.store.run(id: id)?.status == .canceled) }
            #expect(try await succeeding("cancel", "--workflow", "sleeper", on: server) == "no running runs of sleeper\n")
            let unknown = try await run(["cancel", "--workflow", "sleepr", "--server", server.url(""), "--token", RunningServer.token])
            #expect(unknown.status == 1 && unknown.standardError.contains("no workflow named sleepr is served, and no run of it is running; served: sleeper"),
                    "\(unknown.standardError)")

            let single = try await server.startRun("sleeper", "{}")
            #expect(try await succeeding("cancel", single, on: server) == "canceled \(single)\n")
            #expect(try await server.store.run(id: single)?.status == .canceled)
        }
    }

    @Test("dlq list shows an error that holds line breaks on its row, one line per entry")
    func multilineErrorsStayOnTheirRow() async throws {
        let breaker = try definition("""
            workflow: breaker
            steps:
              - id: boom
                fail: {message: "first line\\nsecond line\\n"}
            """)
        try await RunningServer.with([breaker]) { server in
            let id = try await server.startRun("breaker", "{}")
            #expect(try await finishedRun(id, in: server.store).error?.message == "first line\nsecond line\n")
            let listed = try await succeeding("dlq", "list", on: server)
            let lines = listed.split(separator: "\n")
            #expect(lines.count == 2, "\(listed)")
            #expect(lines.last?.hasSuffix("first line second line") == true, "\(listed)")
        }
    }

    @Test("what an endpoint or a client wrote is shown, never acts on the terminal: escape sequences, a carriage return and a bidirectional override are written out by logs, dlq list, an error and trigger --wait's JSON")
    func controlCharactersAreShownNotActedOn() async throws {
        let echo = try definition("""
            workflow: echo
            steps:
              - id: boom
                fail: {message: "${{ input.text }}"}
            """)
        try await RunningServer.with([echo]) { server in
            let hostile = "boom \u{1b}]0;PWNED\u{07}\r\u{1b}[2Kfake \u{9b}31m \u{202e}txt.exe"
            let input: Value = ["text": .string(hostile)]
            let id = try await server.startRun("echo", input.jsonText())
            #expect(try await finishedRun(id, in: server.store).error?.message == hostile)
            let waited = try await cli("trigger", "echo", "--input", input.jsonText(), "--wait", server: server)
            #expect(waited.status == 1)
            let json = try Value(json: waited.standardOutput)
            #expect(json["error"]?["message"] == .string(hostile), "the printed run is the same JSON: \(waited.standardOutput)")
            let shown = [
                try await succeeding("logs", id, on: server), try await succeeding("dlq", "list", on: server),
                try await cli("logs", "wfr_\u{9b}2J\u{202e}", server: server).standardError, waited.standardOutput,
            ]
            for output in shown {
                let acting = output.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n") || (0x7F...0x9F).contains($0.value) || $0.value == 0x202E }
                #expect(acting.isEmpty, "\(output.debugDescription)")
            }
            #expect(shown[0].contains(#"boom \u{1b}]0;PWNED\u{7}\u{d}\u{1b}[2Kfake \u{9b}31m \u{202e}txt.exe"#), "\(shown[0])")
            #expect(shown[1].contains(#"\u{1b}]0;PWNED"#), "\(shown[1])")
            #expect(shown[2].contains(#"no run with id 'wfr_\u{9b}2J\u{202e}'"#), "\(shown[2])")
        }
    }

    @Test("runs refuses an unknown status or a time it cannot read as a usage error (exit 2), before asking the server")
    func runsFilters() async throws {
        for (arguments, message) in [
            (["--status", "bogus"], "--status must be running, succeeded, failed or canceled, not 'bogus'"),
            (["--from", "2026-13-45"], "--from must be a time such as 2026-12-03T18:00:00Z, not '2026-13-45'"),
            (["--to", "yesterday"], "--to must be a time such as"), (["--limit", "0"], "--limit must be at least 1"),
        ] {
            let result = try await run(["runs", "--server", "http://127.0.0.1:9"] + arguments)
            #expect(result.status == 2 && result.standardError.contains(message), "\(arguments): \(result.standardError)")
        }
    }

    @Test("schedules lists each schedule, the workflows' and QStash ones, with its time zone (UTC by default) and next fire time")
    func schedules() async throws {
        let weekly = try definition("""
            workflow: weekly
            schedule:
              - {cron: "30 6 * * 1", input: {kind: report}}
              - {cron: "0 9 1 * *", timezone: Asia/Tokyo}
            steps:
              - id: noop
                set: {kind: "${{ input.kind }}"}
            """)
        try await RunningServer.with([weekly]) { server in
            let listed = try #require(try await send(.GET, server.url("/v2/schedules")).json?.list)
            let next = Dictionary(uniqueKeysWithValues: listed.compactMap { schedule in
                schedule["cron"]?.string.flatMap { cron in schedule["nextFire"]?.string.map { (cron, $0) } }
            })
            let created = try await send(
                .POST, server.url("/v2/schedules/http://127.0.0.1:9/hook"), body: "{}",
                headers: [("Upstash-Cron", "CRON_TZ=Europe/Paris 0 6 * * *"), ("Upstash-Schedule-Id", "sdk-daily")])
            #expect(created.status == 200)
            let output = try await succeeding("schedules", on: server)
            let lines = output.split(separator: "\n")
            #expect(lines.count == 4, "\(output)")
            let sdk = try #require(lines.first { $0.contains("sdk-daily") }, "\(output)")
            for cell in ["http://127.0.0.1:9/hook", "Europe/Paris", "false"] { #expect(sdk.contains(cell), "\(output)") }
            #expect(lines.first?.hasPrefix("ID") == true, "\(output)")
            for (cron, zone) in [("30 6 * * 1", "UTC"), ("CRON_TZ=Asia/Tokyo 0 9 1 * *", "Asia/Tokyo")] {
                let fire = try #require(next[cron], "\(listed)")
                let row = try #require(lines.first { $0.contains(cron) }, "\(output)")
                for cell in ["weekly", zone, fire] { #expect(row.contains(cell), "\(output)") }
            }
        }
    }

    @Test("usage errors exit 2; a server that is not running is named in the error")
    func usageErrors() async throws {
        let neither = try await cli("cancel")
        #expect(neither.status == 2)
        #expect(neither.standardError.contains("--workflow"), "\(neither.standardError)")
        let both = try await cli("cancel", "wfr_x", "--workflow", "sleeper")
        #expect(both.status == 2)
        #expect(both.standardError.contains("not both"), "\(both.standardError)")
        #expect(try await cli("notify").status == 2)
        #expect(try await cli("dlq", "frobnicate").status == 2)

        // Port 9 (discard) on loopback has no server: connecting is refused at once.
        let offline = try await cli("waiters", "go", "--server", "http://127.0.0.1:9")
        #expect(offline.status != 0)
        #expect(offline.standardError.contains("cannot reach the Stepwise server at http://127.0.0.1:9"), "\(offline.standardError)")
        // A password in the server URL is never printed.
        let withPassword = try await cli("waiters", "go", "--server", "http://someone:pw-do-not-print@127.0.0.1:9")
        #expect(withPassword.standardError.contains("cannot reach the Stepwise server at http://***@127.0.0.1:9"), "\(withPassword.standardError)")
        let unusable = try await cli("waiters", "go", "--server", "ftp://someone:pw-do-not-print@127.0.0.1:9")
        #expect(unusable.status == 2)
        for output in [withPassword, unusable] { #expect(!(output.standardError + output.standardOutput).contains("pw-do-not-print")) }
    }

    @Test("a token with a control character (a newline from $(cat …)) is a usage error naming where it came from, never printed")
    func tokenWithAControlCharacter() async throws {
        let secret = "tok-0123456789-secret"
        for command in [["runs", "--server", "http://127.0.0.1:9"], ["keys", "--server", "http://127.0.0.1:9"], ["serve", "--port", "0"]] {
            for token in [secret + "\n ", secret + "\r", "\t" + secret] {
                let result = try await run(command + ["--token", token])
                #expect(result.status == 2, "\(command): \(result.status) \(result.standardError)")
                #expect(result.standardError.contains("the API token from --token holds a control character"), "\(result.standardError)")
                #expect(!(result.standardError + result.standardOutput).contains(secret), "\(command): the token was printed")
            }
        }
    }

    @Test("a --run-id or --label no header can carry is a usage error naming it, not a server that cannot be reached; output that cannot be written fails the command")
    func clientInputsAndOutput() async throws {
        for (option, value) in [("--run-id", "x\ny"), ("--label", "a\tb")] {
            let result = try await run(["trigger", "greeting", option, value, "--server", "http://127.0.0.1:9", "--token", "x"])
            #expect(result.status == 2 && result.standardError.contains("\(option) holds a control character"), "\(result.standardError)")
            #expect(!result.standardError.contains("cannot reach"))
        }
        let directory = try TemporaryDirectory()
        #expect(FileManager.default.createFile(atPath: directory.path("latin1.json"), contents: Data([0x7B, 0xE9, 0x7D])))
        for (file, problem) in [("latin1.json", "is not UTF-8 text"), ("missing.json", "there is no file")] {
            let result = try await run(["trigger", "greeting", "--input", "@" + directory.path(file), "--server", "http://127.0.0.1:9", "--token", "x"])
            #expect(result.status == 2 && result.standardError.contains(problem), "\(file): \(result.standardError)")
        }
        let executable = try #require(stepwiseExecutable).path
        let full = try ChildProcess.run("/bin/sh", ["-c", "exec '\(executable)' eval '1 + 1' > /dev/full"])
        #expect(full.status == 2, "a status of 0 would say the output is there")
        #expect(String(decoding: full.standardError, as: UTF8.self).contains("cannot write the output to standard output"))
    }

    @Test("a --server no request can go to, or a --port or PostgreSQL port past 65535, is a usage error that names it, never a crash")
    func unusableAddresses() async throws {
        for server in ["http://127.0.0.1:65536", "http://[::1]:70000", "http://127.0.0.1:4294967297", "ftp://127.0.0.1/"] {
            for command in [["runs"], ["trigger", "greeting"], ["keys"], ["dlq", "list"]] {
                let result = try await run(command + ["--server", server, "--token", "x"])
                #expect(result.status == 2, "\(command) \(server): \(result.status) \(result.standardError)")
                #expect(result.standardError.contains("server URL '\(server)' (--server"), "\(result.standardError)")
            }
        }
        for command in [["serve", "--port", "99999"], ["serve", "--port", "65536"], ["runner", "--port", "85537"]] {
            let result = try await run(command)
            #expect(result.status == 2, "\(command): \(result.standardError)")
            #expect(result.standardError.contains("--port must be a number from 0 to 65535"), "\(result.standardError)")
        }
        // The runner, the piece that faces the internet behind Upstash, takes serve's connection limits.
        for (option, value) in [("--max-connections", "0"), ("--idle-timeout", "0s"), ("--header-timeout", "0s")] {
            let result = try await run(["runner", option, value])
            #expect(result.status == 2 && result.standardError.contains(option), "\(option) \(value): \(result.standardError)")
        }
        let directory = try TemporaryDirectory()
        // A QStash token with a line break would end its Authorization header early; a QStash URL
        // refused is shown without its user info.
        let token = try await run(["runner", "--workflows", directory.url.path, "--qstash-token", "secret-token\n", "--port", "0"])
        #expect(token.status == 2 && token.standardError.contains("the QStash token holds a control character"), "\(token.standardError)")
        #expect(!token.standardError.contains("secret-token"))
        let url = try await run(["runner", "--workflows", directory.url.path, "--qstash-url", "ftp://ops:pa55word@q.test", "--port", "0"])
        #expect(url.status == 2 && url.standardError.contains("got 'ftp://***@q.test'"), "\(url.standardError)")
        let store = try await run(["serve", "--store", "postgres://u:p@127.0.0.1:99999/db", "--port", "0", "--workflows", directory.url.path])
        #expect(store.status != 0)
        #expect(store.standardError.contains("port 99999 is not a number from 1 to 65535"), "\(store.standardError)")
    }

    @Test("trigger chooses the run's id itself, so a start whose answer was lost names the run and can be sent again safely")
    func triggerNamesItsRunWhenTheServerDoesNotAnswer() async throws {
        let lost = try await run(["trigger", "greeting", "--server", "http://127.0.0.1:9", "--token", "x"])
        #expect(lost.status == 2, "\(lost.standardError)")
        let id = try #require(lost.standardError.firstMatch(of: /The run's id is (wfr_[0-9a-f]{32})/)?.output.1, "\(lost.standardError)")
        #expect(lost.standardError.contains("--run-id \(id)"))
        let hello = try definition("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        try await RunningServer.with([hello]) { server in
            let first = try await cli("trigger", "hello", server: server)
            #expect(first.status == 0, "\(first.standardError)")
            let chosen = try #require(try Value(json: first.standardOutput)["workflowRunId"]?.string)
            #expect(chosen.wholeMatch(of: /wfr_[0-9a-f]{32}/) != nil)
            let again = try await cli("trigger", "hello", "--run-id", chosen, server: server)
            #expect(try Value(json: again.standardOutput)["workflowRunId"]?.string == chosen)
            #expect(try await server.store.runs(.init()).count == 1, "the same id starts the run at most once")
        }
    }

    @Test("stepwise runs --limit pages through the API's cursor past its 1,000 runs a page")
    func runsPastOnePage() async throws {
        let hello = try definition("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        try await RunningServer.with([hello]) { server in
            _ = try await server.insertFinishedRuns(1_234, of: hello)
            let listing = try await succeeding("runs", "--limit", "1200", on: server)
            let rows = listing.split(separator: "\n").filter { $0.hasPrefix("run-") }
            #expect(rows.count == 1_200)
            #expect(Set(rows.map { $0.prefix(9) }).count == 1_200, "no run twice")
            let all = try await succeeding("runs", "--limit", "5000", on: server)
            #expect(all.split(separator: "\n").filter { $0.hasPrefix("run-") }.count == 1_234)
        }
    }

    @Test("signing keys: generated once and kept across restarts, rotated by moving next to current; stepwise keys prints them")
    func signingKeys() async throws {
        let hello = try definition("workflow: hello\nsteps:\n  - id: done\n    return: 1\n")
        let directory = try TemporaryDirectory()
        let (first, rotated) = try await RunningServer.with([hello], directory: directory) { server in
            let first = try #require(try await send(.GET, server.url("/v2/keys")).json)
            #expect(try await send(.GET, server.url("/v2/keys")).json == first, "the same keys every time")
            for key in [first["current"], first["next"]] {
                let text = try #require(key?.string)
                #expect(text.hasPrefix("sig_") && text.count == 32 && text.dropFirst(4).allSatisfy { $0.isLetter || $0.isNumber }, "\(text)")
            }
            #expect(first["current"] != first["next"])
            let printed = try await succeeding("keys", on: server)
            #expect(printed == "QSTASH_CURRENT_SIGNING_KEY=\(first["current"]?.string ?? "")\nQSTASH_NEXT_SIGNING_KEY=\(first["next"]?.string ?? "")\n")
            let rotated = try #require(try await send(.POST, server.url("/v2/keys/rotate")).json)
            #expect(rotated["current"] == first["next"] && rotated["next"] != first["next"] && rotated["next"] != first["current"])
            return (first, rotated)
        }
        try await RunningServer.with([hello], directory: directory) { server async throws in
            #expect(try await send(.GET, server.url("/v2/keys")).json == rotated, "kept in the store across a restart")
            #expect(rotated != first)
        }
    }
}
