import Foundation
import GRDB

/// The SQLite schema and its migrations, in order. Never edit a shipped migration: add one.
enum SQLiteSchema {
    /// The first name of v15, which a store migrated by `cf9642a` (2026-12-05) records.
    static let retiredV15 = "v15: messages by run, for the cascade of a run's expiry"

    /// Migrates the store in `writer` to the current schema; a store that a newer Stepwise
    /// migrated (a migration this build does not know) is refused, naming it, before anything
    /// changes: this build's statements could fail on it half-way, or write what the newer one
    /// does not expect.
    static func migrate(_ writer: some DatabaseWriter) throws {
        let migrator = migrator
        let unknown = try writer.read { db in try migrator.appliedIdentifiers(db) }.subtracting(migrator.migrations + [retiredV15])
        if let newest = unknown.sorted().last {
            throw SQLiteSchemaError.newerSchema("this store was migrated by a newer Stepwise (its migration '\(newest)' is unknown here): run that version or a newer one")
        }
        try migrator.migrate(writer)
    }

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
        migrator.registerMigration("v2: operations, waiters, events, children, flow control, dead letters, schedules") { db in
            try db.execute(sql: """
                ALTER TABLE messages ADD COLUMN kind TEXT NOT NULL DEFAULT 'deliver';
                ALTER TABLE messages ADD COLUMN step_name TEXT;
                ALTER TABLE messages ADD COLUMN redeliver INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE messages ADD COLUMN waiting_for_slot INTEGER NOT NULL DEFAULT 0;
                CREATE UNIQUE INDEX one_delivery_per_run ON messages(run_id) WHERE kind = 'deliver';
                CREATE INDEX messages_by_run ON messages(run_id);
                ALTER TABLE runs ADD COLUMN parent_run_id TEXT;
                ALTER TABLE runs ADD COLUMN parent_step TEXT;
                ALTER TABLE runs ADD COLUMN concurrency_key TEXT;
                ALTER TABLE runs ADD COLUMN concurrency_limit INTEGER;
                ALTER TABLE runs ADD COLUMN rate_key TEXT;
                ALTER TABLE runs ADD COLUMN rate_limit INTEGER;
                ALTER TABLE runs ADD COLUMN rate_period INTEGER;
                ALTER TABLE runs ADD COLUMN failure_position INTEGER;
                CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
                CREATE INDEX runs_by_concurrency_key ON runs(concurrency_key) WHERE concurrency_key IS NOT NULL;
                CREATE TABLE operations (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    step_name TEXT NOT NULL,
                    kind TEXT NOT NULL,
                    event_id TEXT,
                    child_run_id TEXT,
                    timeout_at INTEGER,
                    payload TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, step_name)
                );
                CREATE INDEX operations_by_event ON operations(event_id) WHERE event_id IS NOT NULL;
                CREATE TABLE step_failures (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    step_name TEXT NOT NULL,
                    failures INTEGER NOT NULL,
                    PRIMARY KEY (run_id, step_name)
                );
                CREATE TABLE events (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    event_id TEXT NOT NULL,
                    data TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, event_id)
                );
                CREATE TABLE rate_starts (
                    key TEXT NOT NULL,
                    started_at INTEGER NOT NULL
                );
                CREATE INDEX rate_starts_by_key ON rate_starts(key, started_at);
                CREATE TABLE dead_letters (
                    id TEXT PRIMARY KEY,
                    run_id TEXT NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE schedules (
                    workflow TEXT NOT NULL,
                    position INTEGER NOT NULL,
                    cron TEXT NOT NULL,
                    timezone TEXT,
                    input TEXT NOT NULL,
                    next_fire_at INTEGER,
                    last_fire_at INTEGER,
                    PRIMARY KEY (workflow, position)
                );
                """)
        }
        migrator.registerMigration("v3: signing keys") { db in
            try db.execute(sql: """
                CREATE TABLE signing_keys (
                    id INTEGER PRIMARY KEY CHECK (id = 1),
                    current_key TEXT NOT NULL,
                    next_key TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4: runs of SDK endpoints, their logs, the QStash queue") { db in
            // SDK runs have no definition: the runs table is rebuilt with definition_hash
            // nullable (SQLite cannot drop NOT NULL in place); foreign keys are off meanwhile.
            try db.execute(sql: """
                CREATE TABLE runs_v4 (
                    id TEXT PRIMARY KEY,
                    workflow TEXT NOT NULL,
                    definition_hash TEXT REFERENCES definitions(hash),
                    input TEXT NOT NULL,
                    status TEXT NOT NULL,
                    phase TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    output TEXT,
                    error TEXT,
                    parent_run_id TEXT,
                    parent_step TEXT,
                    concurrency_key TEXT,
                    concurrency_limit INTEGER,
                    rate_key TEXT,
                    rate_limit INTEGER,
                    rate_period INTEGER,
                    failure_position INTEGER,
                    endpoint_url TEXT,
                    endpoint_defaults TEXT
                );
                INSERT INTO runs_v4 (id, workflow, definition_hash, input, status, phase, created_at, updated_at, output, error,
                    parent_run_id, parent_step, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period, failure_position)
                SELECT id, workflow, definition_hash, input, status, phase, created_at, updated_at, output, error,
                    parent_run_id, parent_step, concurrency_key, concurrency_limit, rate_key, rate_limit, rate_period, failure_position
                FROM runs;
                DROP TABLE runs;
                ALTER TABLE runs_v4 RENAME TO runs;
                CREATE INDEX runs_by_workflow ON runs(workflow, created_at);
                CREATE INDEX runs_by_status ON runs(status, created_at);
                CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL;
                CREATE INDEX runs_by_concurrency_key ON runs(concurrency_key) WHERE concurrency_key IS NOT NULL;
                CREATE TABLE run_log (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    message_id TEXT NOT NULL,
                    call_type TEXT NOT NULL,
                    body BLOB NOT NULL,
                    dedupe_key TEXT,
                    recorded_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, position)
                );
                CREATE UNIQUE INDEX run_log_once_per_step ON run_log(run_id, dedupe_key) WHERE dedupe_key IS NOT NULL;
                CREATE TABLE queue (
                    id TEXT PRIMARY KEY,
                    run_id TEXT REFERENCES runs(id) ON DELETE CASCADE,
                    spec TEXT NOT NULL,
                    body BLOB,
                    attempt INTEGER NOT NULL,
                    due_at INTEGER NOT NULL,
                    lease_owner TEXT,
                    lease_until INTEGER,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX queue_by_due ON queue(due_at);
                CREATE INDEX attempts_by_position ON attempts(run_id, position);
                CREATE INDEX queue_by_run ON queue(run_id);
                ALTER TABLE dead_letters ADD COLUMN message TEXT;
                """)
        }
        migrator.registerMigration("v5: invokers of SDK runs") { db in
            // Children are found through runs_by_parent.
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN endpoint_invoker TEXT")
        }
        migrator.registerMigration("v6: flow control of queued messages, QStash schedules, leases by owner") { db in
            try db.execute(sql: """
                ALTER TABLE queue ADD COLUMN flow_key TEXT;
                ALTER TABLE queue ADD COLUMN waiting_for_slot INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX queue_by_flow_key ON queue(flow_key) WHERE flow_key IS NOT NULL;
                CREATE INDEX messages_by_lease_owner ON messages(lease_owner) WHERE lease_owner IS NOT NULL;
                CREATE INDEX queue_by_lease_owner ON queue(lease_owner) WHERE lease_owner IS NOT NULL;
                CREATE INDEX messages_by_lease_end ON messages(lease_until) WHERE lease_until IS NOT NULL;
                CREATE INDEX queue_by_lease_end ON queue(lease_until) WHERE lease_until IS NOT NULL;
                ALTER TABLE rate_starts ADD COLUMN period INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE schedules ADD COLUMN written_by TEXT;
                CREATE TABLE queue_schedules (
                    id TEXT PRIMARY KEY,
                    destination TEXT NOT NULL,
                    cron TEXT NOT NULL,
                    timezone TEXT,
                    headers TEXT NOT NULL,
                    body BLOB,
                    paused INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    next_fire_at INTEGER,
                    last_fire_at INTEGER,
                    last_message_id TEXT
                );
                """)
        }
        migrator.registerMigration("v7: the digest of the API token nodes share, run labels") { db in
            try db.execute(sql: """
                CREATE TABLE api_token (
                    id INTEGER PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL, node TEXT NOT NULL, explicit INTEGER NOT NULL DEFAULT 0);
                ALTER TABLE runs ADD COLUMN label TEXT;
                CREATE INDEX runs_by_label ON runs(label, created_at) WHERE label IS NOT NULL;
                """)
        }
        migrator.registerMigration("v8: fewer indexes on what every step writes, lease tokens") { db in
            // Each step deletes a delivery and inserts the next, and records an attempt: every index
            // on those rows is written at every step. The leases of an owner are looked up only when
            // a node starts (a scan then); a run's delivery is found by one_delivery_per_run, its
            // timers and calls by the new partial index; attempts_by_position leads with run_id too.
            // A message keeps its id from step to step, so a lease is told apart by its token.
            try db.execute(sql: """
                DROP INDEX messages_by_lease_owner;
                DROP INDEX messages_by_run;
                CREATE INDEX messages_of_operations ON messages(run_id, step_name) WHERE kind <> 'deliver';
                DROP INDEX attempts_by_run;
                ALTER TABLE messages ADD COLUMN lease_token INTEGER;
                """)
        }
        migrator.registerMigration("v9: attempts without a sequence") { db in
            // Every step records an attempt, and AUTOINCREMENT made each commit that records one
            // write a page of sqlite_sequence too. Attempt ids only order a run's attempts: a new
            // row's rowid is still past every row of the table. Dropping the old table drops its
            // sqlite_sequence row. (The journal stays a rowid table: clustered by its key, entries
            // of a few KB spill to overflow pages and it wrote more; BENCHMARKS.md.)
            try db.execute(sql: """
                CREATE TABLE attempts_v9 (
                    id INTEGER PRIMARY KEY,
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                    position INTEGER NOT NULL,
                    attempt INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    detail TEXT
                );
                INSERT INTO attempts_v9 (id, run_id, position, attempt, started_at, finished_at, outcome, detail)
                SELECT id, run_id, position, attempt, started_at, finished_at, outcome, detail FROM attempts;
                DROP TABLE attempts;
                ALTER TABLE attempts_v9 RENAME TO attempts;
                CREATE INDEX attempts_by_position ON attempts(run_id, position);
                """)
        }
        migrator.registerMigration("v10: deduplication ids of published messages") { db in
            try db.execute(sql: """
                CREATE TABLE message_deduplications (key TEXT PRIMARY KEY, message_id TEXT NOT NULL, created_at INTEGER NOT NULL);
                CREATE INDEX message_deduplications_by_age ON message_deduplications(created_at);
                """)
        }
        migrator.registerMigration("v11: flow-control keys an operator paused or pinned, QStash queues and URL groups") { db in
            try db.execute(sql: """
                CREATE TABLE flow_keys (
                    key TEXT PRIMARY KEY,
                    paused INTEGER NOT NULL DEFAULT 0,
                    pinned_parallelism INTEGER, pinned_rate INTEGER, pinned_period INTEGER
                );
                CREATE INDEX runs_by_rate_key ON runs(rate_key) WHERE rate_key IS NOT NULL;
                CREATE TABLE named_queues (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                ALTER TABLE rate_starts ADD COLUMN rate_limit INTEGER;
                CREATE TABLE url_groups (name TEXT PRIMARY KEY, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
                CREATE TABLE url_group_endpoints (
                    group_name TEXT NOT NULL REFERENCES url_groups(name) ON DELETE CASCADE, url TEXT NOT NULL, name TEXT,
                    PRIMARY KEY (group_name, url)
                );
                """)
        }
        migrator.registerMigration("v12: the DLQ of plain QStash messages, the message log") { db in
            try db.execute(sql: """
                CREATE TABLE message_dead_letters (
                    id TEXT PRIMARY KEY,
                    message_id TEXT NOT NULL,
                    spec TEXT NOT NULL,
                    body BLOB,
                    due_at INTEGER NOT NULL,
                    url TEXT NOT NULL, url_group TEXT, queue_name TEXT, schedule_id TEXT, label TEXT,
                    response_status INTEGER NOT NULL,
                    response_headers TEXT NOT NULL,
                    response_body BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    failed_at INTEGER NOT NULL
                );
                CREATE INDEX message_dead_letters_by_failure ON message_dead_letters(failed_at, id);
                CREATE TABLE message_events (
                    seq INTEGER PRIMARY KEY,
                    time INTEGER NOT NULL,
                    state TEXT NOT NULL,
                    message_id TEXT NOT NULL,
                    url TEXT NOT NULL, url_group TEXT, queue_name TEXT, schedule_id TEXT, label TEXT, run_id TEXT,
                    error TEXT, next_delivery_at INTEGER,
                    response_status INTEGER, response_headers TEXT, response_body BLOB,
                    spec TEXT, body BLOB
                );
                CREATE INDEX message_events_by_time ON message_events(time);
                CREATE INDEX message_events_by_message ON message_events(message_id);
                """)
        }
        migrator.registerMigration("v13: rate-limit starts by time, for their expiry") { db in
            try db.execute(sql: "CREATE INDEX rate_starts_by_time ON rate_starts(started_at)")
        }
        migrator.registerMigration("v14: the body of a dead-lettered SDK run's failed message (a call's callback)") { db in
            try db.execute(sql: "ALTER TABLE dead_letters ADD COLUMN message_body BLOB")
        }
        // v15 was shipped first without the DLQ's index, under another name (`cf9642a`): a store
        // that has it gets the index alone.
        migrator.registerMigration(
            "v15: messages by run, for the cascade of a run's expiry; the workflow DLQ by failure, for its pages",
            merging: [retiredV15]
        ) { db, merged in
            // Deleting a run deletes its messages through the foreign key, which looks them up by
            // run_id: without an index of its own (the partial ones do not serve it), each deleted
            // run would scan the table. A step updates its message without changing run_id, so
            // the index is written when a message is queued or deleted (a start, a timer, an end).
            if !merged.contains(retiredV15) { try db.execute(sql: "CREATE INDEX messages_by_run ON messages(run_id)") }
            // The DLQ's pages walk its entries by failure time.
            try db.execute(sql: "CREATE INDEX dead_letters_by_failure ON dead_letters(created_at, id)")
        }
        migrator.registerMigration("v16: a dead-lettered SDK run's failure callback and how it went, and the answer that failed it") { db in
            try db.execute(sql: """
                ALTER TABLE dead_letters ADD COLUMN failure_callback TEXT;
                ALTER TABLE dead_letters ADD COLUMN failure_callback_state TEXT;
                ALTER TABLE dead_letters ADD COLUMN failure_callback_message TEXT;
                ALTER TABLE dead_letters ADD COLUMN response_status INTEGER;
                ALTER TABLE dead_letters ADD COLUMN response_headers TEXT;
                ALTER TABLE dead_letters ADD COLUMN response_body BLOB;
                """)
        }
        migrator.registerMigration("v17: a run's labels, one row each, for multi-value label filters") { db in
            // `Upstash-Label: a,b` gives a run two labels; a listing by label walks
            // run_labels_by_label newest first, and a run's rows go with it through the foreign
            // key (retention). The split is written out here, as shipped: on commas, trimmed of
            // spaces and tabs, empty and repeated ones dropped.
            try db.execute(sql: """
                CREATE TABLE run_labels (
                    run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, label TEXT NOT NULL, created_at INTEGER NOT NULL,
                    PRIMARY KEY (run_id, label)
                ) WITHOUT ROWID;
                CREATE INDEX run_labels_by_label ON run_labels(label, created_at DESC, run_id);
                DROP INDEX runs_by_label;
                """)
            for row in try Row.fetchAll(db, sql: "SELECT id, label, created_at FROM runs WHERE label IS NOT NULL") {
                let text: String = row["label"]
                let labels = text.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: " \t")) }.filter { !$0.isEmpty }
                for label in Set(labels) {
                    try db.execute(
                        sql: "INSERT INTO run_labels (run_id, label, created_at) VALUES (?, ?, ?)", arguments: [row["id"], label, row["created_at"]])
                }
            }
        }
        migrator.registerMigration("v18: the flow-control key and caller of a run, a logged or dead-lettered message, for their filters") { db in
            // A YAML run's key is its flow control's; an SDK run's is kept with its run-level
            // options when it has them (the JS SDK 1.x's, a resume's); others started before
            // have none. A log row keeps its message's stored form only when it was created; the
            // message's other rows take the key from that one. A queue's messages have none of
            // their own (`QueuedMessage.flowControlKey`). Only rows whose JSON names a flow control
            // are written, so the upgrade writes no more than it must. The address of a caller is
            // known only from now on.
            try db.execute(sql: """
                ALTER TABLE runs ADD COLUMN caller_ip TEXT;
                ALTER TABLE message_events ADD COLUMN caller_ip TEXT;
                ALTER TABLE message_dead_letters ADD COLUMN caller_ip TEXT;
                ALTER TABLE runs ADD COLUMN flow_key TEXT;
                UPDATE runs SET flow_key = COALESCE(concurrency_key, rate_key,
                    CASE WHEN json_valid(endpoint_defaults) THEN COALESCE(\(flowKey("endpoint_defaults", under: "overrides")), \(flowKey("endpoint_defaults"))) END)
                WHERE concurrency_key IS NOT NULL OR rate_key IS NOT NULL OR endpoint_defaults LIKE '%"flowControl"%';
                ALTER TABLE message_events ADD COLUMN flow_key TEXT;
                ALTER TABLE message_dead_letters ADD COLUMN flow_key TEXT;
                UPDATE message_dead_letters SET flow_key = \(flowKey("spec"))
                WHERE queue_name IS NULL AND spec LIKE '%"flowControl"%' AND json_valid(spec);
                UPDATE message_events SET flow_key = (
                    SELECT \(flowKey("created.spec")) FROM message_events AS created
                    WHERE created.message_id = message_events.message_id AND created.spec LIKE '%"flowControl"%' AND json_valid(created.spec)
                    ORDER BY created.seq LIMIT 1)
                WHERE queue_name IS NULL AND message_id IN (
                    SELECT message_id FROM message_events WHERE spec LIKE '%"flowControl"%' AND json_valid(spec));
                """)
        }
        migrator.registerMigration("v19: the message log by run, for the deliveries a canceled run dropped") { db in
            try db.execute(sql: "CREATE INDEX message_events_by_run ON message_events(run_id)")
        }
        migrator.registerMigration("v20: the caller of a QStash schedule") { db in
            try db.execute(sql: "ALTER TABLE queue_schedules ADD COLUMN caller_ip TEXT")
        }
        migrator.registerMigration("v21: the queue slot a message keeps from its first attempt to its end, callbacks included") { db in
            try db.execute(sql: "ALTER TABLE queue ADD COLUMN holds_slot BOOLEAN NOT NULL DEFAULT 0")
        }
        // The listing of every run (the dashboard's first page, `stepwise runs`) walks it newest
        // first, a page at a time, instead of sorting the whole table for each page.
        migrator.registerMigration("v22: runs newest first, for the unfiltered listing") { db in
            try db.execute(sql: "CREATE INDEX runs_by_creation ON runs(created_at DESC, id)")
        }
        migrator.registerMigration("v23: a run's deadline, for a run waiting for a slot past it and a resume's fresh timeout") { db in
            try db.execute(sql: "ALTER TABLE runs ADD COLUMN deadline_at INTEGER")
            try db.execute(sql: "CREATE INDEX messages_waiting_for_slot ON messages(run_id) WHERE waiting_for_slot = 1")
        }
        return migrator
    }

    /// The SQL of the flow-control key (`FlowControl.key`) in the JSON of `column`, a message's
    /// stored form or a run's options, at its `flowControl` or that of its member `under`.
    private static func flowKey(_ column: String, under member: String? = nil) -> String {
        let path = "$" + (member.map { ".\($0)" } ?? "") + ".flowControl"
        return "COALESCE(json_extract(\(column), '\(path).concurrencyKey'), json_extract(\(column), '\(path).rateKey'))"
    }
}
