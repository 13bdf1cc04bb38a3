/// The API token's digest as a store keeps it, with the node that stored it.
public struct StoredToken: Sendable, Equatable {
    public let digest: String
    public let node: String

    public init(digest: String, node: String) {
        self.digest = digest
        self.node = node
    }
}
