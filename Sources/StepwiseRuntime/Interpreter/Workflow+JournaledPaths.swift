import StepwiseLanguage

/// Questions about the steps of a workflow asked by their journaled paths (`fanout[3].send`).
extension Workflow {
    /// The step a journaled path names (`fanout[3].send` is the step `fanout[].send`).
    public func step(atJournaledPath path: String) -> Step? {
        let generic = Self.withoutIndices(path)
        return allSteps.first { $0.path.description == generic }
    }

    /// Whether a failure of the step at `path` fails the run at once: nothing catches it (the step
    /// and every step it sits in have no `catch`) and no group (`parallel`, `for_each`) waits for
    /// its other branches first; `false` in `on_failure` and for a path the workflow lacks, where
    /// the caller keeps to the safe course.
    public func failureEndsRun(at path: String) -> Bool {
        guard let step = step(atJournaledPath: path), step.catchSteps.isEmpty else { return false }
        let segments = step.path.segments
        for end in segments.indices.dropLast() {
            switch segments[end] {
            case .onFailure:
                return false
            case .step:
                let enclosing = StepPath(Array(segments[...end])).description
                guard let outer = allSteps.first(where: { $0.path.description == enclosing }) else { return false }
                // A step's `catch` handles its own failures, not those of the steps of its handler.
                guard outer.catchSteps.isEmpty || segments[end + 1] == .catch else { return false }
                switch outer.kind {
                case .parallel, .forEach: return false
                default: continue
                }
            case .iteration, .branch, .catch:
                continue
            }
        }
        return true
    }

    private static func withoutIndices(_ path: String) -> String {
        var result = ""
        var skipping = false
        for character in path {
            if character == "[" {
                skipping = true
                result.append("[")
            } else if character == "]" {
                skipping = false
                result.append("]")
            } else if !skipping {
                result.append(character)
            }
        }
        return result
    }
}
