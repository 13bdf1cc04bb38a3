import StepwiseRuntime
import StepwiseTesting

/// Small workflows several suites run.
enum SmallWorkflows {
    /// One durable step (a 10 ms sleep), then its output.
    static let napper = """
        workflow: napper
        steps:
          - id: nap
            sleep: 10ms
        output: rested
        """

    /// A first step held at `gate` (`CountingServer.gate`), then a wait for `event`: the run
    /// reaches its wait only when the test opens the gate.
    static func gatedWait(_ name: String, gate: String, event: String, output: String) -> String {
        """
        workflow: \(name)
        steps:
          - id: gate
            http: {url: "\(gate)", timeout: 5m}
          - id: ready
            wait_for_event: {event: "\(event)", timeout: 1h}
        output: \(output)
        """
    }

    /// Runs `body` with a `gatedWait` workflow whose gate is served by a fresh `CountingServer`,
    /// and the function that opens the gate.
    static func withGatedWait(
        _ name: String, event: String, output: String,
        _ body: (WorkflowDefinition, _ open: @escaping @Sendable () -> Void) async throws -> Void
    ) async throws {
        try await CountingServer.with { endpoint in
            let open = endpoint.gate("/gate")
            try await body(try definition(gatedWait(name, gate: endpoint.url("/gate"), event: event, output: output)), open)
        }
    }
}
