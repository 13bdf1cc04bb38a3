import Hummingbird
import Logging
import ServiceLifecycle

/// An application a test serves until `stop()`. Stopping shuts it down gracefully first: the
/// listener closes and the connections it accepted are served or closed. Cancelling the serving
/// task alone can drop a connection accepted but not yet handed to the server, which swift-nio
/// traps on ("Deinited NIOAsyncWriter without calling finish()", apple/swift-nio#3481). What is
/// still running after its patience (a followed change feed, a slow answer) is cancelled.
final class ServedApplication: Sendable {
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    /// Starts serving `application`; a shutdown cancels what is still running after `patience`.
    init(_ application: some ApplicationProtocol, patience: Duration = .seconds(1), logger: Logger) {
        var configuration = ServiceGroupConfiguration(services: [application], gracefulShutdownSignals: [], logger: logger)
        configuration.maximumGracefulShutdownDuration = patience
        let group = ServiceGroup(configuration: configuration)
        self.group = group
        task = Task { try await group.run() }
    }

    /// How the serving ended, once it has.
    var result: Result<Void, any Error> {
        get async { await task.result }
    }

    /// Shuts the application down gracefully (cancelling it after its patience) and waits for it.
    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }
}
