/// A QStash URL group (a topic, `/v2/topics`): a message published to its name goes to each of
/// its endpoints, as one message per endpoint.
public struct URLGroup: Sendable, Equatable {
    /// The group's name (`QStashName`).
    public var name: String
    /// Milliseconds since the epoch.
    public var createdAt: Int64
    /// Milliseconds since the epoch.
    public var updatedAt: Int64
    /// Its endpoints, by URL.
    public var endpoints: [URLGroupEndpoint]

    /// A group with the given parts.
    public init(name: String, createdAt: Int64, updatedAt: Int64, endpoints: [URLGroupEndpoint]) {
        self.name = name
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.endpoints = endpoints
    }
}
