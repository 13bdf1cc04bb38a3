import ArgumentParser
import Foundation
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol
import StepwiseRuntime

/// `stepwise cancel`: cancels a running run, or every running run of a workflow.
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel", abstract: "Cancel a running run, or every running run of a workflow.",
        usage: "stepwise cancel <run-id>\nstepwise cancel --workflow <name>")

    @Argument(help: "The run id.") var runId: String?
    @Option(name: .long, help: "Cancel every running run of this workflow.") var workflow: String?
    @OptionGroup var server: ServerOption

    func validate() throws {
        switch (runId, workflow) {
        case (nil, nil): throw ValidationError("give a run id or --workflow NAME")
        case (_?, _?): throw ValidationError("give a run id or --workflow NAME, not both")
        default: break
        }
    }

    func run() async throws {
        guard let workflow else {
            let runId = runId ?? ""
            let answer = try await server.client.expectSuccess(.DELETE, "/v2/workflows/runs/\(PathSegment.escaped(runId))?cancel=true")
            guard answer["status"]?.stringText == RunStatus.failed.rawValue else {
                print("canceled \(runId)")
                return
            }
            print("ended the on_failure handler of \(runId); the run stays failed")
            return
        }
        let answer = try await server.client.expectSuccess(.DELETE, "/v2/workflows/runs", body: ["workflow": .string(workflow)])
        let canceled = answer["workflowRunIds"]?.listItems.compactMap(\.stringText) ?? []
        guard canceled.isEmpty else {
            print(canceled.map { "canceled \($0)" }.joined(separator: "\n"))
            return
        }
        // Nothing canceled: a name the server does not serve is more likely a slip than a quiet workflow.
        let served = try await server.client.expectSuccess(.GET, "/api/workflows")["workflows"]?.listItems.compactMap { $0["name"]?.stringText } ?? []
        guard served.contains(workflow) else {
            throw CommandFailure.failed("no workflow named \(workflow) is served, and no run of it is running; served: \(served.joined(separator: ", "))")
        }
        print("no running runs of \(workflow)")
    }
}
