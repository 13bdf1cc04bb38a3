import Hummingbird
import ServiceLifecycle

extension ApplicationProtocol {
    /// Runs until SIGINT or SIGTERM, then shuts down gracefully; whatever still runs `limit`
    /// later (a request that never ends) is cancelled, so a stop always ends.
    func runService(stoppingWithin limit: Duration) async throws {
        var configuration = ServiceGroupConfiguration(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = limit
        try await ServiceGroup(configuration: configuration).run()
    }
}
