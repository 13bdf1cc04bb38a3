import ServiceLifecycle
import StepwiseEngine

/// The engine's delivery loop as a service that stops on graceful shutdown.
struct DeliveryService: Service {
    let engine: WorkflowEngine

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            try await engine.runDeliveries()
        }
    }
}
