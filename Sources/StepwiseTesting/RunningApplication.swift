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
    let served = ServedApplication(application, logger: silentLogger)
    // The stream ends when serving ends, so a server that never starts is not waited for.
    Task {
        _ = await served.result
        continuation.finish()
    }
    var iterator = ports.makeAsyncIterator()
    guard let port = await iterator.next(), port > 0 else {
        await served.stop()
        try Task.checkCancellation()
        throw ApplicationStartFailure(description: "\(what) did not start: \(await served.result)")
    }
    do {
        let result = try await body(port)
        await served.stop()
        return result
    } catch {
        await served.stop()
        throw error
    }
}

/// An application that could not start (its address taken, most often).
public struct ApplicationStartFailure: Error, CustomStringConvertible {
    public let description: String
}
