/// A wait for work that may never end, bounded: the work runs in a task of its own and the wait
/// ends at the limit even if the caller was cancelled (a stopping loop is), leaving the work to go
/// on unawaited. Used where a stop must end: deliveries in flight, a store's worker threads.
public enum LimitedWait {
    /// Runs `work` and waits for it at most `limit`; true when it finished in time.
    public static func completes(within limit: Duration, _ work: @escaping @Sendable () async -> Void) async -> Bool {
        await Task {
            let (outcomes, outcome) = AsyncStream<Bool>.makeStream(bufferingPolicy: .bufferingOldest(1))
            Task {
                await work()
                outcome.yield(true)
            }
            let timer = Task {
                try? await Task.sleep(for: limit)
                outcome.yield(false)
            }
            var first = outcomes.makeAsyncIterator()
            let finished = await first.next() ?? true
            timer.cancel()
            return finished
        }.value
    }
}
