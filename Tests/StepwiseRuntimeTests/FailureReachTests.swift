import StepwiseLanguage
import StepwiseRuntime
import Testing

/// `Workflow.failureEndsRun(at:)`: which failed steps end their run at once, so that the runner
/// fails the run without journaling the error (and a resume from the DLQ runs the step again).
@Suite("Which failures end a run at once")
struct FailureReachTests {
    static let yaml = """
        workflow: reach
        steps:
          - id: plain
            http: {url: "https://example.com/a"}
          - id: guarded
            http: {url: "https://example.com/b"}
            catch:
              - id: fallback
                http: {url: "https://example.com/c"}
          - id: choose
            switch:
              - when: ${{ true }}
                steps:
                  - id: chosen
                    http: {url: "https://example.com/d"}
          - id: guarded_switch
            switch:
              - when: ${{ true }}
                steps:
                  - id: inside_guarded
                    http: {url: "https://example.com/e"}
            catch:
              - id: switch_fallback
                set: {v: 1}
          - id: both
            parallel:
              left:
                - id: branch_step
                  http: {url: "https://example.com/f"}
          - id: each
            for_each:
              items: [1, 2]
              steps:
                - id: send
                  http: {url: "https://example.com/g"}
        on_failure:
          - id: alert
            http: {url: "https://example.com/h"}
        """

    private func workflow() throws -> Workflow {
        let file = WorkflowFile(path: "reach.yaml", source: Self.yaml)
        #expect(!file.hasErrors, "\(file.diagnostics)")
        return try #require(file.workflow)
    }

    @Test("a step with no catch around it ends the run, also inside a switch or a catch handler")
    func uncaught() throws {
        let workflow = try workflow()
        #expect(workflow.failureEndsRun(at: "plain"))
        #expect(workflow.failureEndsRun(at: "choose.chosen"))
        #expect(workflow.failureEndsRun(at: "guarded.catch.fallback"), "a catch does not handle its own handler's failures")
    }

    @Test("a catch of the step or of a step around it, a group around it, on_failure or an unknown path: journaled as before")
    func caughtOrGrouped() throws {
        let workflow = try workflow()
        #expect(!workflow.failureEndsRun(at: "guarded"))
        #expect(!workflow.failureEndsRun(at: "guarded_switch.inside_guarded"))
        #expect(!workflow.failureEndsRun(at: "both.left.branch_step"))
        #expect(!workflow.failureEndsRun(at: "each[1].send"))
        #expect(!workflow.failureEndsRun(at: "on_failure.alert"))
        #expect(!workflow.failureEndsRun(at: "nowhere"))
    }

    @Test("a journaled path names its step with the iteration indices left out")
    func journaledPaths() throws {
        let workflow = try workflow()
        #expect(workflow.step(atJournaledPath: "each[7].send")?.id.value == "send")
        #expect(workflow.step(atJournaledPath: "guarded.catch.fallback")?.id.value == "fallback")
        #expect(workflow.step(atJournaledPath: "each.send") == nil)
    }
}
