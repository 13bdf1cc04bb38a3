import CMalloc
import ServiceLifecycle

/// Hands memory that deliveries freed back to the system at a steady interval. A delivery
/// decodes a run's input and journal (up to megabytes each); glibc keeps what was freed in its
/// arenas, so without this the resident size of a server that parks many big runs stays near its
/// busiest moment (measured: 245 MiB before a trim, 127 MiB after, for 100 parked 0.9 MB runs).
struct MemoryTrimService: Service {
    let interval: Duration

    func run() async throws {
        while !Task.isCancelled {
            do {
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
            } catch {
                return  // shutting down
            }
            _ = cmalloc_trim()
        }
    }
}
