/// Where an API path has an empty segment that routing would skip (`EmptySegmentMiddleware`).
enum EmptyPathSegment {
    /// Routes that end with a destination URL, whose `//` belong to it; a queue's name comes before
    /// its destination.
    private static let destinationRoutes: [(method: String?, prefix: String, namedSegments: Int)] = [
        (nil, "/v2/publish/", 0), (nil, "/v2/trigger/", 0), (nil, "/v2/enqueue/", 1), ("POST", "/v2/schedules/", 0),
    ]

    /// Whether `path` has an empty segment where it is routed: at its start (the router skips
    /// leading slashes, so `//v2/messages/` would reach the API too), or in a path of the API
    /// (`/v2`, `/api`) a double slash or a slash at its end.
    static func isIn(_ path: String, method: String) -> Bool {
        if path.hasPrefix("//") { return true }
        guard path.hasPrefix("/v2/") || path.hasPrefix("/api/") else { return false }
        let routed = routedPart(of: path, method: method)
        return routed.hasSuffix("/") || routed.contains("//")
    }

    /// The part of `path` routing reads: all of it, or up to the destination a route ends with
    /// (after a queue's name), without the slash before the destination.
    static func routedPart(of path: String, method: String) -> Substring {
        guard let route = destinationRoutes.first(where: { ($0.method == nil || $0.method == method) && path.hasPrefix($0.prefix) }) else {
            return Substring(path)
        }
        var end = path.index(path.startIndex, offsetBy: route.prefix.count - 1)
        for _ in 0..<route.namedSegments {
            let next = path.index(after: end)
            end = path[next...].firstIndex(of: "/") ?? path.endIndex
        }
        return path[..<end]
    }
}
