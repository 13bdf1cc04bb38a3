import GRDB

/// The SQLite schema and its migrations, in order. Never edit a shipped migration: add one.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: definitions, runs, journal, messages, attempts") { db in
            try db.execute(sql: """
                CREATE TABLE definitions (
                    hash TEXT PRIMARY KEY,
                    workflow TEXT NOT NULL,
                    source TEXT NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE runs (
                    id TEXT PRIMARY KEY,
                    workflow TEXT NOT NULL,
                    definition_hash TEXT NOT NULL REFERENCES definitions(hash),
                    input TEXT NOT NULL,
                    status TEXT NOT NULL,
                    phase TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    output TEXT,
                    error TEXT
                );
                CREATE INDEX runs_by_workflow ON runs(workflow, created_at);
                CREATE INDEX runs_by_status ON runs(status, created_at);
                CREATE TABLE journal (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    entry TEXT NOT NULL,
                    recorded_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, position)
                );
                CREATE TABLE messages (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    attempt INTEGER NOT NULL,
                    due_at INTEGER NOT NULL,
                    lease_owner TEXT,
                    lease_until INTEGER,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX messages_by_due ON messages(due_at);
                CREATE TABLE attempts (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    detail TEXT
                );
                CREATE INDEX attempts_by_run ON attempts(run_id, id);
                """)
        }
        return migrator
    }
}
