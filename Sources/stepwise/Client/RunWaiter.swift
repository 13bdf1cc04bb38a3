import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// Waits for a run's end on the server's change feed (no polling).
struct RunWaiter {
    let client: APIClient
    /// How long a follower keeps trying a server it cannot reach (a restart, a deploy).
    static let reconnectWindow = Duration.seconds(120)

    func waitForEnd(of id: String) async throws -> Value {
        let run = try await followToEnd(id) { _, _ in }
        return ["workflowRunId": .string(id), "status": run["status"] ?? .null, "output": run["output"] ?? .null, "error": run["error"] ?? .null]
    }

    /// Hands each event of run `id` to `handle` until the run has ended, and returns the run. A
    /// feed that ends early (the node restarted, a proxy's timeout) is opened again, and a server
    /// that cannot be reached is tried again every second for `reconnectWindow`.
    func followToEnd(_ id: String, _ handle: (_ name: String, _ data: Value) async throws -> Void) async throws -> Value {
        let clock = ContinuousClock()
        var unreachableSince: ContinuousClock.Instant?
        while true {
            do {
                try await follow(id, handle)
                let run = try await client.run(id)
                guard run["status"]?.stringText == "running" else { return run }
                unreachableSince = nil
            } catch CommandFailure.unreachable(let message) {
                let since = unreachableSince ?? clock.now
                guard since.duration(to: clock.now) < Self.reconnectWindow else { throw CommandFailure.unreachable(message) }
                if unreachableSince == nil {
                    FileHandle.standardError.write(Data("\(message); trying again for up to \(Self.reconnectWindow.components.seconds) s\n".utf8))
                }
                unreachableSince = since
                try await Task.sleep(for: .seconds(1))
            }
        }
    }

    /// Hands each event of run `id` to `handle` until the run has ended or the feed ends.
    private func follow(_ id: String, _ handle: (_ name: String, _ data: Value) async throws -> Void) async throws {
        try await client.events(APIClient.runPath(id) + "/events") { name, data in
            try await handle(name, data)
            if name == "snapshot" { return data["status"]?.stringText == "running" }
            return name != "finished"
        }
    }
}
