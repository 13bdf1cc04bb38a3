import Hummingbird

/// Runs the application `make` builds (given the callback that learns its port) until `body`
/// returns or throws, then shuts it down: the one way test servers are started and stopped.
public func withApplication<A: ApplicationProtocol, T>(
    _ what: String, _ make: (@escaping @Sendable (Int) async -> Void) -> A, _ body: (Int) async throws -> T
) async throws -> T {
    let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
    let application = make { port in
        continuation.yield(port)
        continuation.finish()
    }
    let task = Task {
        defer { continuation.finish() }
        try await application.runService(gracefulShutdownSignals: [])
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else {
        task.cancel()
        throw ApplicationStartFailure(description: "\(what) did not start: \(await task.result)")
    }
    do {
        let result = try await body(port)
        task.cancel()
        _ = await task.result
        return result
    } catch {
        task.cancel()
        _ = await task.result
        throw error
    }
}

/// An application that could not start (its address taken, most often).
public struct ApplicationStartFailure: Error, CustomStringConvertible {
    public let description: String
}
