import GRDB
import StepwiseEngine
import StepwiseExpressions
import StepwiseProtocol

/// The signing keys of deliveries: one row, created by the first node that starts.
extension SQLiteStore {
    public func signingKeys(storingIfAbsent fresh: SigningKeys) async throws -> SigningKeys {
        try await pool.write { db in
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO signing_keys (id, current_key, next_key) VALUES (1, ?, ?)").execute(
                arguments: [fresh.current.text, fresh.next.text])
            return try Self.fetchSigningKeys(db) ?? fresh
        }
    }

    public func rotateSigningKeys(from expected: SigningKeys, to rotated: SigningKeys) async throws -> SigningKeys {
        try await pool.write { db in
            try db.cachedStatement(
                sql: "UPDATE signing_keys SET current_key = ?, next_key = ? WHERE id = 1 AND current_key = ? AND next_key = ?"
            ).execute(arguments: [rotated.current.text, rotated.next.text, expected.current.text, expected.next.text])
            return try Self.fetchSigningKeys(db) ?? rotated
        }
    }

    private static func fetchSigningKeys(_ db: Database) throws -> SigningKeys? {
        guard let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT current_key, next_key FROM signing_keys WHERE id = 1")) else {
            return nil
        }
        return SigningKeys(current: SigningKey(row["current_key"]), next: SigningKey(row["next_key"]))
    }
}

/// The counts `/metrics` reports.
extension SQLiteStore {
    public func runCounts() async throws -> [RunCount] {
        try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT workflow, status, COUNT(*) AS count FROM runs GROUP BY workflow, status").compactMap { row in
                RunStatus(rawValue: row["status"]).map { RunCount(workflow: row["workflow"], status: $0, count: row["count"]) }
            }
        }
    }

    public func deadLetterCounts() async throws -> DeadLetterCounts {
        try await pool.read { db in
            let row = try Row.fetchOne(
                db, sql: "SELECT (SELECT COUNT(*) FROM dead_letters) AS runs, (SELECT COUNT(*) FROM message_dead_letters) AS messages")
            return DeadLetterCounts(runs: row?["runs"] ?? 0, messages: row?["messages"] ?? 0)
        }
    }

    public func messageCounts(at now: TimestampValue) async throws -> MessageCounts {
        let now = SQLiteTime.milliseconds(now)
        return try await pool.read { db in
            let row = try Row.fetchOne(db, sql: """

                SELECT
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NULL AND waiting_for_slot = 0 AND due_at <= ?)
                        + (SELECT COUNT(*) FROM queue WHERE lease_until IS NULL AND waiting_for_slot = 0 AND due_at <= ?),
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NOT NULL) + (SELECT COUNT(*) FROM queue WHERE lease_until IS NOT NULL),
                    (SELECT COUNT(*) FROM messages WHERE lease_until IS NULL AND (waiting_for_slot = 1 OR due_at > ?))
                        + (SELECT COUNT(*) FROM queue WHERE lease_until IS NULL AND (waiting_for_slot = 1 OR due_at > ?))
                """, arguments: [now, now, now, now])
            return MessageCounts(due: row?[0] ?? 0, leased: row?[1] ?? 0, later: row?[2] ?? 0)
        }
    }
}

/// The digest of the API token nodes share (one row).
extension SQLiteStore {
    public func apiToken(storing digest: String?, node: String, replacing: Bool) async throws -> StoredToken? {
        try await pool.write { db in
            if let digest {
                try db.cachedStatement(
                    sql: """
                        INSERT INTO api_token (id, digest, node, explicit) VALUES (1, ?, ?, ?)
                        ON CONFLICT(id) DO UPDATE SET digest = excluded.digest, node = excluded.node, explicit = excluded.explicit
                        WHERE excluded.explicit OR (node = excluded.node AND NOT explicit)
                        """
                ).execute(arguments: [digest, node, replacing])
            }
            return try Row.fetchOne(db.cachedStatement(sql: "SELECT digest, node, explicit FROM api_token WHERE id = 1")).map { row in
                StoredToken(digest: row["digest"], node: row["node"], explicit: row["explicit"])
            }
        }
    }
}
