/// QStash's URL groups, decided once for every store over `URLGroupRows`: adding endpoints makes
/// the group, removing its last endpoint or deleting it removes it. Runs inside one
/// transaction of the store's.
public struct URLGroups<Rows: URLGroupRows> {
    let rows: Rows

    /// Groups kept through `rows`.
    public init(_ rows: Rows) {
        self.rows = rows
    }

    /// Adds `endpoints` to group `name`, creating it; an endpoint already there by URL takes the
    /// new name.
    public func add(_ endpoints: [URLGroupEndpoint], to name: String, at now: Int64) throws {
        try rows.saveURLGroup(name, createdAt: try rows.urlGroupTimes(name)?.createdAt ?? now, updatedAt: now)
        for endpoint in endpoints { try rows.saveURLGroupEndpoint(endpoint, in: name) }
    }

    /// Removes the endpoints of group `name` with the given URLs or names, and the group with its
    /// last endpoint, as QStash does; false when there is no such group.
    public func remove(urls: [String], names: [String], from name: String, at now: Int64) throws -> Bool {
        guard let times = try rows.urlGroupTimes(name) else { return false }
        // Writing the group's row first holds it until the end: an add that commits meanwhile is
        // either seen below or waits, so its endpoint is never dropped with the group.
        try rows.saveURLGroup(name, createdAt: times.createdAt, updatedAt: now)
        try rows.deleteURLGroupEndpoints(in: name, urls: urls, names: names)
        if try rows.urlGroupEndpoints(of: name).isEmpty { _ = try rows.deleteURLGroup(name) }
        return true
    }

    /// Group `name` with its endpoints; `nil` when there is none.
    public func group(_ name: String) throws -> URLGroup? {
        guard let times = try rows.urlGroupTimes(name) else { return nil }
        return URLGroup(name: name, createdAt: times.createdAt, updatedAt: times.updatedAt, endpoints: try rows.urlGroupEndpoints(of: name))
    }

    /// Every group, by name.
    public func groups() throws -> [URLGroup] {
        try rows.urlGroupNames().compactMap(group)
    }
}

/// The rows QStash's URL groups read and write.
public protocol URLGroupRows {
    /// When group `name` was created and last changed (milliseconds); `nil` when there is none.
    func urlGroupTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)?
    /// Keeps group `name` with these times.
    func saveURLGroup(_ name: String, createdAt: Int64, updatedAt: Int64) throws
    /// Adds `endpoint` to group `name`, or renames the one with its URL.
    func saveURLGroupEndpoint(_ endpoint: URLGroupEndpoint, in name: String) throws
    /// Removes the endpoints of group `name` whose URL is in `urls` or name in `names`.
    func deleteURLGroupEndpoints(in name: String, urls: [String], names: [String]) throws
    /// The endpoints of group `name`, by URL.
    func urlGroupEndpoints(of name: String) throws -> [URLGroupEndpoint]
    /// Every group's name, in order.
    func urlGroupNames() throws -> [String]
    /// Removes group `name` and its endpoints; false when there was none.
    func deleteURLGroup(_ name: String) throws -> Bool
}
