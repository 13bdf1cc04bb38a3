import Hummingbird
import ServiceLifecycle

extension ApplicationProtocol {
    /// Runs until SIGINT or SIGTERM, then shuts down gracefully: `drain` first (`/ready` answers
    /// 503 for its delay), then the application; whatever still runs `limit` after the drain (a
    /// request that never ends) is cancelled, so a stop always ends.
    func runService(stoppingWithin limit: Duration, drain: ShutdownDrain) async throws {
        var configuration = ServiceGroupConfiguration(services: [self, drain], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        configuration.maximumGracefulShutdownDuration = limit + drain.delay
        try await ServiceGroup(configuration: configuration).run()
    }
}
