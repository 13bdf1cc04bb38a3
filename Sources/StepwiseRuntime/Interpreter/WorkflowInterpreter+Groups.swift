import StepwiseExpressions
import StepwiseLanguage

extension WorkflowInterpreter {
    /// `parallel`: every branch walks as far as the journal allows; the step completes with
    /// `{branch: output}` when all have, and fails with the first failure once the others settled.
    func parallel(_ branches: [ParallelBranch], indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        let outer = state
        let members = try await group(count: branches.count, limit: nil, context) { index throws(ExecutionSignal) in
            var branchState = outer
            let output = try await execute(branches[index].steps, indices: indices, context, &branchState)
            return (output, branchState.steps)
        }
        var result = ValueMap()
        for (branch, member) in zip(branches, members) {
            result[.string(branch.name.value)] = member.output
            for (key, value) in member.steps.entries { state.steps[key] = value }
        }
        return .map(result)
    }

    /// `for_each`: the steps once per item, at most `concurrency` iterations unfinished at a time
    /// (always the first ones in item order, so every delivery agrees on which have started);
    /// the outputs in item order.
    func forEach(_ loop: ForEachLoop, path: String, indices: [Int], _ context: WorkflowContext, _ state: inout ExecutionState) async throws(ExecutionSignal) -> Value {
        let items = try accepted(evaluate(loop.items, state, step: path), by: StepValues.items, step: path)
        let outer = state
        let members = try await group(count: items.count, limit: loop.concurrency?.value ?? Self.defaultConcurrency, context) { index throws(ExecutionSignal) in
            var iterationState = outer
            iterationState.iteration = (items[index], index)
            let output = try await execute(loop.steps, indices: indices + [index], context, &iterationState)
            return (output, ValueMap())
        }
        return .list(members.map(\.output))
    }

    /// Walks `count` members of a group in order; at most `limit` may be unfinished. Returns every
    /// member's output and step results when all completed. Otherwise the walk ends with the next
    /// steps of the unfinished members, or blocked when they all wait for the engine; a failed
    /// member fails the group only once no other member can make progress.
    private func group(
        count: Int, limit: Int?, _ context: WorkflowContext,
        _ member: (Int) async throws(ExecutionSignal) -> (output: Value, steps: ValueMap)
    ) async throws(ExecutionSignal) -> [(output: Value, steps: ValueMap)] {
        try await context.concurrently { () async throws(ExecutionSignal) -> [(output: Value, steps: ValueMap)] in
            var completed: [(output: Value, steps: ValueMap)] = []
            var frontier: [FrontierStep] = []
            var unfinished = 0
            var failure: StepError?
            for index in 0..<count {
                if let limit, unfinished >= limit { break }
                context.startGroupMember(afterFinishedOnes: limit.map { index >= $0 } ?? false)
                do throws(ExecutionSignal) {
                    completed.append(try await member(index))
                    context.endGroupMember(finished: true)
                } catch .frontier(let steps) {
                    frontier += steps
                    unfinished += 1
                    context.endGroupMember(finished: false)
                } catch .interrupted(.blocked) {
                    unfinished += 1
                    context.endGroupMember(finished: false)
                } catch .failed(let error) {
                    failure = failure ?? error
                    context.endGroupMember(finished: true)
                }
            }
            if !frontier.isEmpty { throw .frontier(frontier) }
            if unfinished > 0 { throw .interrupted(.blocked) }
            if let failure { throw .failed(failure) }
            return completed
        }
    }
}
