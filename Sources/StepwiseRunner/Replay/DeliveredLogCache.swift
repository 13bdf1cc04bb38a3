import StepwiseProtocol
import Synchronization

/// The logs of the runs delivered lately, as read: a delivery whose body extends the bytes of a
/// run's last delivery, as received, is read from where that one ended, so replaying costs what
/// was appended (plus comparing the known prefix) instead of decoding the whole log again. Bounded
/// by an estimate of bytes (the body's, twice: the decoded journal is of its size), least recently
/// used first out; any delivery it cannot continue (another prefix, a run it evicted) is read
/// whole, so it is never needed for correctness.
final class DeliveredLogCache: Sendable {
    private struct Log {
        /// The last body received, without its closing bracket.
        var received: [UInt8]
        var reader: ProtocolJournal.Reader
        var lastUse: UInt64

        /// The estimated bytes it keeps: the body and the journal decoded from it.
        var estimatedBytes: Int { received.count * 2 }
    }

    private struct Logs {
        var byRun: [String: Log] = [:]
        var uses: UInt64 = 0
        var totalBytes = 0
    }

    private let logs = Mutex(Logs())
    /// The most body bytes kept, all runs together.
    let byteBudget: Int

    /// A cache keeping at most `byteBudget` bytes of delivery bodies.
    init(byteBudget: Int = 64 << 20) {
        self.byteBudget = byteBudget
    }

    /// The journal of run `runId`'s delivery `body`; errors name the raw step that cannot be read.
    func journal(runId: String, body: [UInt8]) throws(ProtocolError) -> ProtocolJournal {
        // The log leaves the cache while it is extended, so it is changed in place, not copied.
        var kept = take(runId)
        guard let continuation = kept.flatMap({ EncodedRawSteps.continuation(of: $0.received, in: body) }) else {
            let log = try Self.read(body, runId: runId)
            // A late delivery of a shorter prefix does not replace the longer log.
            if let kept, kept.reader.count > log.reader.count {
                put(kept, for: runId)
            } else {
                put(log, for: runId)
            }
            return try log.reader.journal
        }
        if case .extends(let rest) = continuation {
            for raw in try RawStepArray(jsonBytes: rest).steps { try kept?.reader.read(raw) }
            kept?.received = EncodedRawSteps.openPrefix(of: body) ?? []
        }
        guard let log = kept else { return try Self.read(body, runId: runId).reader.journal }
        put(log, for: runId)
        return try log.reader.journal
    }

    /// Forgets a run that ended.
    func forget(_ runId: String) {
        _ = take(runId)
    }

    private static func read(_ body: [UInt8], runId: String) throws(ProtocolError) -> Log {
        var log = Log(received: EncodedRawSteps.openPrefix(of: body) ?? [], reader: ProtocolJournal.Reader(runId: runId), lastUse: 0)
        for raw in try RawStepArray(jsonBytes: body).steps { try log.reader.read(raw) }
        return log
    }

    private func take(_ runId: String) -> Log? {
        logs.withLock { logs in
            guard let log = logs.byRun.removeValue(forKey: runId) else { return nil }
            logs.totalBytes -= log.estimatedBytes
            return log
        }
    }

    private func put(_ log: Log, for runId: String) {
        guard !log.received.isEmpty, log.estimatedBytes <= byteBudget / 4 else { return }
        logs.withLock { logs in
            logs.uses += 1
            var log = log
            log.lastUse = logs.uses
            logs.totalBytes += log.estimatedBytes
            logs.byRun[runId] = log
            while logs.totalBytes > byteBudget, let oldest = logs.byRun.min(by: { $0.value.lastUse < $1.value.lastUse })?.key,
                let removed = logs.byRun.removeValue(forKey: oldest)
            {
                logs.totalBytes -= removed.estimatedBytes
            }
        }
    }
}
