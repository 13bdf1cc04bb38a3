import Logging
import ServiceLifecycle

/// The first part of a graceful stop: `/ready` answers 503 for `delay` while requests and
/// deliveries go on, so a load balancer stops sending requests before the listener closes (a
/// listener closed at once refuses the requests still routed to it). Listed after the
/// application, it is the first service a `ServiceGroup` stops.
struct ShutdownDrain: Service {
    let notice: ShutdownNotice
    let delay: Duration
    let logger: Logger

    func run() async throws {
        try? await gracefulShutdown()
        notice.begin()
        guard delay > .zero, !Task.isCancelled else { return }
        logger.info("stopping: /ready answers 503 for \(delay) before the listener closes")
        try? await Task.sleep(for: delay)
    }
}
