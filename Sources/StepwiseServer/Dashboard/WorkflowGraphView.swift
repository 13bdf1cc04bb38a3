import StepwiseEngine
import StepwiseExpressions
import StepwiseLanguage
import StepwiseRuntime

/// A workflow's steps as a tree the dashboard draws (`GET /api/workflows`): each step's id, its
/// path as journaled (`fanout[].send`, `[]` standing for any iteration), its kind, whether it is
/// durable, and its nested branches (a `parallel`'s branches, a `switch`'s cases, a `for_each`
/// body, `catch` steps).
enum WorkflowGraphView {
    static func workflow(_ definition: WorkflowDefinition) -> Value {
        let workflow = definition.workflow
        var map = ValueMap([
            ("name", .string(workflow.name.value)), ("version", .string(definition.hash)), ("steps", .list(workflow.steps.map(step))),
        ])
        if !workflow.onFailure.isEmpty { map[.string("onFailure")] = .list(workflow.onFailure.map(step)) }
        map[.string("description")] = workflow.description.map(Value.string) ?? .null
        return .map(map)
    }

    private static func step(_ step: Step) -> Value {
        var branches: [Value] = []
        switch step.kind {
        case .parallel(let parallel): branches = parallel.map { branch($0.name.value, $0.steps) }
        case .switch(let cases): branches = cases.enumerated().map { index, item in branch(item.condition == nil ? "default" : "case \(index + 1)", item.steps) }
        case .forEach(let loop): branches = [branch("each item", loop.steps)]
        default: break
        }
        if !step.catchSteps.isEmpty { branches.append(branch("catch", step.catchSteps)) }
        return [
            "id": .string(step.id.value), "path": .string(step.path.description), "kind": .string(step.kind.keyword),
            "durable": .bool(step.isDurable), "branches": .list(branches),
        ]
    }

    private static func branch(_ name: String, _ steps: [Step]) -> Value {
        ["name": .string(name), "steps": .list(steps.map(step))]
    }
}
