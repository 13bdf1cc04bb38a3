import Logging
import ServiceLifecycle
import StepwiseRuntime
import UnixSignals

/// Reads the workflows folder again on SIGHUP, as nginx reads its configuration: a folder whose
/// every file validates replaces the workflows served (`apply`: `WorkflowEngine.reload` in
/// `serve`, `WorkflowEndpoint.reload` in `runner`), without a restart or a dropped connection;
/// one with errors is refused, its diagnostics logged, and the workflows served stay as they
/// were. A node without a folder (`--no-runner`) says so: a SIGHUP sent to every node of a
/// cluster must stop none.
struct WorkflowReloadService: Service {
    let folder: String?
    let logger: Logger
    /// Serves a folder that validated; what changed, or an error when nothing did.
    let apply: @Sendable (WorkflowFolder) async throws -> WorkflowReload

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
            let change = try await apply(read)
            logger.notice("workflows reloaded from \(folder): \(change)")
        } catch {
            logger.error("workflows not reloaded: \(error); still serving the workflows loaded before")
        }
    }
}
