import GRDB
import StepwiseEngine
import StepwiseExpressions

/// QStash's URL groups on SQLite: `URLGroups`, each change in one transaction.
extension SQLiteStore {
    public func addURLGroupEndpoints(_ endpoints: [URLGroupEndpoint], to name: String, at time: TimestampValue) async throws {
        try await groupCommit.write { db in try URLGroups(SQLiteTransaction(db)).add(endpoints, to: name, at: SQLiteTime.milliseconds(time)) }
    }

    public func removeURLGroupEndpoints(urls: [String], names: [String], from name: String, at time: TimestampValue) async throws -> Bool {
        try await groupCommit.write { db in
            try URLGroups(SQLiteTransaction(db)).remove(urls: urls, names: names, from: name, at: SQLiteTime.milliseconds(time))
        }
    }

    public func deleteURLGroup(_ name: String) async throws -> Bool {
        try await groupCommit.write { db in try SQLiteTransaction(db).deleteURLGroup(name) }
    }

    public func urlGroup(_ name: String) async throws -> URLGroup? {
        try await pool.read { db in try URLGroups(SQLiteTransaction(db)).group(name) }
    }

    public func urlGroups() async throws -> [URLGroup] {
        try await pool.read { db in try URLGroups(SQLiteTransaction(db)).groups() }
    }
}

/// The rows of QStash's URL groups: `url_groups` and their `url_group_endpoints`.
extension SQLiteTransaction: URLGroupRows {
    func urlGroupTimes(_ name: String) throws -> (createdAt: Int64, updatedAt: Int64)? {
        try times(in: "url_groups", of: name)
    }

    func saveURLGroup(_ name: String, createdAt: Int64, updatedAt: Int64) throws {
        try saveTimes(in: "url_groups", of: name, createdAt: createdAt, updatedAt: updatedAt)
    }

    func saveURLGroupEndpoint(_ endpoint: URLGroupEndpoint, in name: String) throws {
        try db.cachedStatement(
            sql: "INSERT INTO url_group_endpoints (group_name, url, name) VALUES (?, ?, ?) ON CONFLICT (group_name, url) DO UPDATE SET name = excluded.name"
        ).execute(arguments: [name, endpoint.url, endpoint.name])
    }

    func deleteURLGroupEndpoints(in name: String, urls: [String], names: [String]) throws {
        for url in urls {
            try db.cachedStatement(sql: "DELETE FROM url_group_endpoints WHERE group_name = ? AND url = ?").execute(arguments: [name, url])
        }
        for endpointName in names {
            try db.cachedStatement(sql: "DELETE FROM url_group_endpoints WHERE group_name = ? AND name = ?").execute(arguments: [name, endpointName])
        }
    }

    func urlGroupEndpoints(of name: String) throws -> [URLGroupEndpoint] {
        try Row.fetchAll(db.cachedStatement(sql: "SELECT url, name FROM url_group_endpoints WHERE group_name = ? ORDER BY url"), arguments: [name])
            .map { row in URLGroupEndpoint(url: row["url"], name: row["name"]) }
    }

    func urlGroupNames() throws -> [String] {
        try String.fetchAll(db.cachedStatement(sql: "SELECT name FROM url_groups ORDER BY name"))
    }

    func deleteURLGroup(_ name: String) throws -> Bool {
        try db.cachedStatement(sql: "DELETE FROM url_groups WHERE name = ?").execute(arguments: [name])
        return db.changesCount > 0
    }
}
