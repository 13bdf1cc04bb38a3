/// A run's delivery leased to this node, with what was read for it when it was leased.
public struct LeasedDelivery: Sendable, Equatable {
    public var message: PendingMessage
    /// The run and its progress, read in the transaction that leased the message (`NextLease`);
    /// `nil` when the delivery must read them itself.
    public var read: RunState?

    /// A run with its progress, as a delivery starts from.
    public struct RunState: Sendable, Equatable {
        public var run: RunRecord
        public var progress: RunProgress

        /// The state `run` and `progress` describe.
        public init(run: RunRecord, progress: RunProgress) {
            self.run = run
            self.progress = progress
        }
    }

    /// `message`, with `read` when it was read already.
    public init(message: PendingMessage, read: RunState? = nil) {
        self.message = message
        self.read = read
    }
}
