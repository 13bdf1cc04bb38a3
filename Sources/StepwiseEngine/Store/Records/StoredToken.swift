/// The API token's digest as a store keeps it, with the node that stored it and whether it was
/// given explicitly (`--token`, `STEPWISE_TOKEN`) rather than read from or made for a node's file.
public struct StoredToken: Sendable, Equatable {
    public let digest: String
    public let node: String
    public let explicit: Bool

    public init(digest: String, node: String, explicit: Bool) {
        self.digest = digest
        self.node = node
        self.explicit = explicit
    }
}
