import PostgresNIO
import StepwiseEngine
import StepwiseExpressions

/// QStash's URL groups on PostgreSQL: `URLGroups`, each change in one transaction, each read in
/// one snapshot.
extension PostgresStore {
    public func addURLGroupEndpoints(_ endpoints: [URLGroupEndpoint], to name: String, at time: TimestampValue) async throws {
        try await write { transaction in try URLGroups(transaction).add(endpoints, to: name, at: PostgresTransaction.at(time)) }
    }

    public func removeURLGroupEndpoints(urls: [String], names: [String], from name: String, at time: TimestampValue) async throws -> Bool {
        try await write { transaction in try URLGroups(transaction).remove(urls: urls, names: names, from: name, at: PostgresTransaction.at(time)) }
    }

    public func deleteURLGroup(_ name: String) async throws -> Bool {
        try await write { transaction in try transaction.deleteURLGroup(name) }
    }

    public func urlGroup(_ name: String) async throws -> URLGroup? {
        try await snapshot { session in try URLGroups(PostgresTransaction(session)).group(name) }
    }

    public func urlGroups() async throws -> [URLGroup] {
        try await snapshot { session in try URLGroups(PostgresTransaction(session)).groups() }
    }
}

/// The rows of QStash's URL groups: `url_groups` and their `url_group_endpoints`.
extension PostgresTransaction: URLGroupRows {
    func urlGroupTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try times(in: "url_groups", of: name)
    }

    func saveURLGroup(_ name: String, createdAt: Int64, updatedAt: Int64) throws {
        try saveTimes(in: "url_groups", of: name, createdAt: createdAt, updatedAt: updatedAt)
    }

    func saveURLGroupEndpoint(_ endpoint: URLGroupEndpoint, in name: String) throws {
        try session.execute(
            "INSERT INTO url_group_endpoints (group_name, url, name) VALUES (?, ?, ?) ON CONFLICT (group_name, url) DO UPDATE SET name = excluded.name",
            [name, endpoint.url, endpoint.name])
    }

    func deleteURLGroupEndpoints(in name: String, urls: [String], names: [String]) throws {
        for url in urls { try session.execute("DELETE FROM url_group_endpoints WHERE group_name = ? AND url = ?", [name, url]) }
        for endpointName in names { try session.execute("DELETE FROM url_group_endpoints WHERE group_name = ? AND name = ?", [name, endpointName]) }
    }

    func urlGroupEndpoints(of name: String) throws -> [URLGroupEndpoint] {
        try session.rows("SELECT url, name FROM url_group_endpoints WHERE group_name = ? ORDER BY url", [name]).map { row in
            URLGroupEndpoint(url: try row("url", as: String.self), name: try row("name", as: String?.self))
        }
    }

    func urlGroupNames() throws -> [String] {
        try session.values("SELECT name FROM url_groups ORDER BY name")
    }

    func deleteURLGroup(_ name: String) throws -> Bool {
        try session.changes("DELETE FROM url_groups WHERE name = ?", [name])
    }
}
