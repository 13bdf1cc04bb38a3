import Foundation

/// Runs `work`, which blocks (a child process, a socket read), on a thread of its own, so that
/// waiting for it does not hold one of the few threads the server in this process needs.
public func onOwnThread<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread { continuation.resume(with: Result { try work() }) }
    }
}
