import Logging
import ServiceLifecycle
import StepwiseEngine
import StepwiseRuntime
import UnixSignals

/// Reads the workflows folder again on SIGHUP, as nginx reads its configuration: a folder whose
/// every file validates replaces the workflows served (`WorkflowEngine.reload`), without a
/// restart or a dropped connection; one with errors is refused, its diagnostics logged, and the
/// workflows served stay as they were. A node without a folder (`--no-runner`) says so: a
/// SIGHUP sent to every node of a cluster must stop none.
struct WorkflowReloadService: Service {
    let engine: WorkflowEngine
    let folder: String?
    let logger: Logger

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            await reload()
        }
    }

    /// One reload, its outcome logged.
    func reload() async {
        guard let folder else {
            return logger.notice("SIGHUP: this node serves no workflows folder (--no-runner, or none at ./workflows); nothing to reload")
        }
        let read: WorkflowFolder
        do {
            read = try WorkflowFolder(path: folder)
        } catch {
            return logger.error("workflows not reloaded: \(error); still serving the workflows loaded before")
        }
        guard !read.hasErrors else {
            return logger.error("workflows not reloaded: \(folder) has errors; still serving the workflows loaded before\n\(read.diagnosticsText)")
        }
        do {
            let change = try await engine.reload(Array(read.definitions.values))
            logger.notice("workflows reloaded from \(folder): \(change)")
        } catch {
            logger.error("workflows not reloaded: the store failed (\(error)); still serving the workflows loaded before")
        }
    }
}
