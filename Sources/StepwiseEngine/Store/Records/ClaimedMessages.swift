/// What one claim took (`Store.claimDueMessages`): messages leased to process (deliveries and
/// calls), and the timers it fired in the same commit.
public struct ClaimedMessages: Sendable {
    /// Due messages leased to the claiming node.
    public var messages: [PendingMessage]
    /// Due timers fired by the claim, with their runs' deliveries leased to the node when no one held them.
    public var fired: [FiredTimer]

    /// `messages` to process and `fired` timers.
    public init(messages: [PendingMessage], fired: [FiredTimer]) {
        self.messages = messages
        self.fired = fired
    }
}
