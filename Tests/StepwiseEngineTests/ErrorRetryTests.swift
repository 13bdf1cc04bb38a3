@testable import StepwiseEngine
import StepwiseProtocol
import Testing

/// A message the engine could not process (a store error, a version it cannot read) is tried
/// again with QStash's backoff, within bounds.
@Suite("Retries after the engine's own errors")
struct ErrorRetryTests {
    @Test("the wait grows with QStash's backoff, never past a minute (a step deep in its retries, or minutes of a failing disk, put the next try hours out), and never below 100 ms at scale 0")
    func bounded() {
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: 0, scale: 1) == DefaultBackoff.delay(beforeRetry: 1).scaled(by: 1))
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: 1, scale: 1) == .seconds(60))
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: 6, scale: 1) == .seconds(60))
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: .max - 1, scale: 1) == .seconds(60))
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: 1, scale: 0.01) == DefaultBackoff.delay(beforeRetry: 2).scaled(by: 0.01))
        #expect(WorkflowEngine.errorRetryDelay(afterAttempt: 3, scale: 0) == .milliseconds(100))
    }
}
