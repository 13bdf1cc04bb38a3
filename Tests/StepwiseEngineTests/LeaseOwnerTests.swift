import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseRuntime
import StepwiseTesting
import Testing

/// Lease owners: unique per process, renewed while alive, released at once when their process on
/// this host is gone, taken over by another node only once they expire.
@Suite("Leases and their owners")
struct LeaseOwnerTests {
    @Test func anOwnerIsWrittenAndReadBackAndTellsWhichProcessesAreCertainlyGone() throws {
        let me = LeaseOwner.current(node: "api/eu-1")
        #expect(LeaseOwner(parsing: me.description) == me, "node names may hold slashes")
        #expect(LeaseOwner(parsing: "node-1") == nil, "a name of another form is not parsed")
        #expect(!me.isCertainlyDead(seenFrom: me))

        let predecessor = LeaseOwner(node: me.node, host: me.host, pid: me.pid, started: me.started + "0")
        #expect(predecessor.isCertainlyDead(seenFrom: me), "this process id, another start: an earlier process")
        let exited = try exitedProcessId()
        #expect(LeaseOwner(node: "n", host: me.host, pid: exited, started: "1").isCertainlyDead(seenFrom: me), "a process that is gone")
        #expect(!LeaseOwner(node: "n", host: "elsewhere.test", pid: exited, started: "1").isCertainlyDead(seenFrom: me), "another host's: wait for expiry")
    }

    @Test("a predecessor that exited but was not reaped yet (a zombie, as under an init that reaps late) is certainly dead")
    func aZombieIsDead() throws {
        var pid: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/true"), nil]
        defer { argv.forEach { free($0) } }
        try #require(posix_spawn(&pid, "/bin/true", nil, nil, argv, environ) == 0)
        // Not reaped until the end: until then it is a zombie of this process.
        defer { waitpid(pid, nil, 0) }
        let me = LeaseOwner.current(node: "n")
        let owner = try #require(LeaseOwner.process(pid, node: "n"), "its start time is readable while it lives or lingers")
        _ = try eventuallyTrue("the child to exit") {
            (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.split(separator: ")").last?.split(separator: " ").first == "Z"
        }
        #expect(owner.isCertainlyDead(seenFrom: me))
    }

    @Test("a live node renews its leases, so a step slower than the lease is not delivered again by another node")
    func slowStepKeepsItsLease() async throws {
        try await CountingServer.with { server in
            // Three leases long; a lease renewed every quarter of 4 s, given up after 4 s without a
            // renewal, survives a stall of 3 s of a loaded machine (the full suite once stalled a
            // renewal past a 2.5 s lease, in CI).
            server.script("/slow", .json("{}", delay: .seconds(12)))
            let slow = try definition("""
                workflow: slow
                steps:
                  - id: call
                    http: {url: "\(server.url("/slow"))", timeout: 30s}
                """)
            let harness = try EngineHarness()
            let short = WorkflowEngine.Configuration(lease: .seconds(4), maximumIdle: .milliseconds(50))
            try await harness.withEngine([slow], owner: LeaseOwner.current(node: "a").description, configuration: short) { first in
                let run = try await first.start("slow")
                _ = try await eventually("the slow request") { server.requests(to: "/slow").first }
                // Another node polls the same store all along; the first one stays alive.
                try await harness.withEngine([slow], owner: LeaseOwner(node: "b", host: "other.test", pid: 1, started: "1").description, configuration: short) { _ in
                    let finished = try await finishedRun(run.id, in: first.store, within: .seconds(40))
                    #expect(finished.status == .succeeded)
                }
            }
            #expect(server.requests(to: "/slow").count == 1, "three leases long, and delivered once")
        }
    }
}

/// The id of a process that has exited: `sh` prints its own pid and ends.
/// Polls `condition` every 10 ms for at most 10 s.
private func eventuallyTrue(_ what: String, _ condition: () -> Bool) throws -> Bool {
    for _ in 0..<1_000 {
        if condition() { return true }
        usleep(10_000)
    }
    throw WaitTimeout(description: "gave up after 10 s waiting for \(what)")
}

func exitedProcessId() throws -> Int32 {
    let printed = String(decoding: try ChildProcess.run("/bin/sh", ["-c", "echo $$"]).standardOutput, as: UTF8.self)
    return try #require(Int32(printed.trimmingCharacters(in: .whitespacesAndNewlines)))
}

