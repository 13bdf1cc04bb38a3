import StepwiseExpressions

/// A parsed workflow file: the header and the steps, every part with its source location.
public struct Workflow: Sendable {
    public var name: Located<String>
    public var description: String?
    public var input: InputSchema?
    public var secrets: [Located<String>]
    public var environment: [(name: String, value: Value)]
    /// Delivery retries of each step message (default 3).
    public var retries: Int
    public var timeout: Located<DurationValue>?
    public var concurrency: Concurrency?
    public var rateLimit: RateLimit?
    public var schedules: [Schedule]
    public var output: ValueTemplate?
    public var onFailure: [Step]
    /// Where Upstash's failure payload is posted when the run fails for good (after `on_failure`).
    public var failureURL: Located<String>?
    public var steps: [Step]
    /// Ids of steps that were written but could not be read (their errors are reported); other
    /// steps may still refer to them without a second, misleading error.
    public var undecodedStepIds: Set<String>

    public init(name: Located<String>) {
        self.name = name
        description = nil
        input = nil
        secrets = []
        environment = []
        retries = 3
        timeout = nil
        concurrency = nil
        rateLimit = nil
        schedules = []
        output = nil
        onFailure = []
        failureURL = nil
        steps = []
        undecodedStepIds = []
    }

    /// Every step of the workflow, depth first in source order, including nested and `on_failure` steps.
    public var allSteps: [Step] {
        (steps + onFailure).flatMap(\.selfAndDescendants)
    }

    /// The workflow names its `invoke` steps write out, where they are written; a template in
    /// their place is left out (the decoder refuses it already).
    public var invokedWorkflows: [Located<String>] {
        allSteps.compactMap { step in
            guard case .invoke(let invocation) = step.kind, !invocation.workflow.value.contains("${{") else { return nil }
            return invocation.workflow
        }
    }
}
