/// One endpoint of a URL group: an http(s) URL, optionally named.
public struct URLGroupEndpoint: Sendable, Equatable {
    /// Where the group's messages are delivered.
    public var url: String
    /// A name to remove it by.
    public var name: String?

    /// An endpoint at `url`, named `name` if given.
    public init(url: String, name: String? = nil) {
        self.url = url
        self.name = name
    }
}
