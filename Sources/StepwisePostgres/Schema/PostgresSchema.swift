import Logging
import PostgresNIO

/// The PostgreSQL schema and its migrations, in order, applied at start under an advisory lock so
/// that several nodes starting at once apply each migration once. Never edit a shipped
/// migration: add one.
enum PostgresSchema {
    /// A migration: its name (recorded once applied) and its statements.
    struct Migration {
        let name: String
        let statements: [String]
    }

    /// The key of the advisory lock migrations hold (any fixed number shared by every node).
    static let migrationLock: Int64 = 0x5374_6570_7769_7365

    static let migrations = [
        Migration(name: "v1: runs, journals, messages, operations, the QStash queue, schedules, keys", statements: [
            """
            CREATE TABLE definitions (
                hash TEXT PRIMARY KEY, workflow TEXT NOT NULL, source TEXT NOT NULL, created_at BIGINT NOT NULL)
            """,
            """
            CREATE TABLE runs (
                id TEXT PRIMARY KEY, workflow TEXT NOT NULL, definition_hash TEXT REFERENCES definitions(hash), input TEXT NOT NULL,
                status TEXT NOT NULL, phase TEXT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL, output TEXT, error TEXT,
                parent_run_id TEXT, parent_step TEXT, concurrency_key TEXT, concurrency_limit BIGINT, rate_key TEXT, rate_limit BIGINT,
                rate_period BIGINT, failure_position BIGINT, endpoint_url TEXT, endpoint_defaults TEXT, endpoint_invoker TEXT, label TEXT)
            """,
            "CREATE INDEX runs_by_label ON runs(label, created_at) WHERE label IS NOT NULL",
            "CREATE INDEX runs_by_workflow ON runs(workflow, created_at)",
            "CREATE INDEX runs_by_status ON runs(status, created_at)",
            "CREATE INDEX runs_by_created ON runs(created_at DESC, id)",
            "CREATE INDEX runs_by_parent ON runs(parent_run_id) WHERE parent_run_id IS NOT NULL",
            "CREATE INDEX runs_by_concurrency_key ON runs(concurrency_key) WHERE concurrency_key IS NOT NULL",
            """
            CREATE TABLE journal (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, position BIGINT NOT NULL, entry TEXT NOT NULL,
                recorded_at BIGINT NOT NULL, PRIMARY KEY (run_id, position))
            """,
            """
            CREATE TABLE messages (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                kind TEXT NOT NULL DEFAULT 'deliver', step_name TEXT, attempt BIGINT NOT NULL, due_at BIGINT NOT NULL, lease_owner TEXT,
                lease_until BIGINT, redeliver BIGINT NOT NULL DEFAULT 0, waiting_for_slot BIGINT NOT NULL DEFAULT 0,
                created_at BIGINT NOT NULL)
            """,
            "CREATE UNIQUE INDEX one_delivery_per_run ON messages(run_id) WHERE kind = 'deliver'",
            "CREATE INDEX messages_by_due ON messages(due_at) WHERE lease_until IS NULL",
            "CREATE INDEX messages_by_run ON messages(run_id)",
            "CREATE INDEX messages_by_lease_owner ON messages(lease_owner) WHERE lease_owner IS NOT NULL",
            "CREATE INDEX messages_by_lease_end ON messages(lease_until) WHERE lease_until IS NOT NULL",
            """
            CREATE TABLE attempts (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
                position BIGINT NOT NULL, attempt BIGINT NOT NULL, started_at BIGINT NOT NULL, finished_at BIGINT NOT NULL,
                outcome TEXT NOT NULL, detail TEXT)
            """,
            "CREATE INDEX attempts_by_run ON attempts(run_id, id)",
            "CREATE INDEX attempts_by_position ON attempts(run_id, position)",
            """
            CREATE TABLE operations (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step_name TEXT NOT NULL, kind TEXT NOT NULL, event_id TEXT,
                child_run_id TEXT, timeout_at BIGINT, payload TEXT NOT NULL, created_at BIGINT NOT NULL, PRIMARY KEY (run_id, step_name))
            """,
            "CREATE INDEX operations_by_event ON operations(event_id) WHERE event_id IS NOT NULL",
            """
            CREATE TABLE step_failures (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step_name TEXT NOT NULL, failures BIGINT NOT NULL,
                PRIMARY KEY (run_id, step_name))
            """,
            """
            CREATE TABLE events (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, event_id TEXT NOT NULL, data TEXT NOT NULL,
                created_at BIGINT NOT NULL, PRIMARY KEY (run_id, event_id))
            """,
            "CREATE TABLE rate_starts (key TEXT NOT NULL, started_at BIGINT NOT NULL, period BIGINT NOT NULL DEFAULT 0)",
            "CREATE INDEX rate_starts_by_key ON rate_starts(key, started_at)",
            """
            CREATE TABLE dead_letters (
                id TEXT PRIMARY KEY, run_id TEXT NOT NULL UNIQUE REFERENCES runs(id) ON DELETE CASCADE, created_at BIGINT NOT NULL,
                message TEXT)
            """,
            """
            CREATE TABLE schedules (
                workflow TEXT NOT NULL, position BIGINT NOT NULL, cron TEXT NOT NULL, timezone TEXT, input TEXT NOT NULL,
                next_fire_at BIGINT, last_fire_at BIGINT, written_by TEXT, PRIMARY KEY (workflow, position))
            """,
            "CREATE TABLE signing_keys (id BIGINT PRIMARY KEY CHECK (id = 1), current_key TEXT NOT NULL, next_key TEXT NOT NULL)",
            "CREATE TABLE api_token (id BIGINT PRIMARY KEY CHECK (id = 1), digest TEXT NOT NULL, node TEXT NOT NULL, explicit BOOLEAN NOT NULL DEFAULT false)",
            """
            CREATE TABLE run_log (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, position BIGINT NOT NULL, message_id TEXT NOT NULL,
                call_type TEXT NOT NULL, body BYTEA NOT NULL, dedupe_key TEXT, recorded_at BIGINT NOT NULL, PRIMARY KEY (run_id, position))
            """,
            "CREATE UNIQUE INDEX run_log_once_per_step ON run_log(run_id, dedupe_key) WHERE dedupe_key IS NOT NULL",
            """
            CREATE TABLE queue (
                id TEXT PRIMARY KEY, run_id TEXT REFERENCES runs(id) ON DELETE CASCADE, spec TEXT NOT NULL, body BYTEA,
                attempt BIGINT NOT NULL, due_at BIGINT NOT NULL, lease_owner TEXT, lease_until BIGINT, created_at BIGINT NOT NULL,
                flow_key TEXT, waiting_for_slot BIGINT NOT NULL DEFAULT 0)
            """,
            "CREATE INDEX queue_by_due ON queue(due_at) WHERE lease_until IS NULL",
            "CREATE INDEX queue_by_run ON queue(run_id)",
            "CREATE INDEX queue_by_flow_key ON queue(flow_key) WHERE flow_key IS NOT NULL",
            "CREATE INDEX queue_by_lease_owner ON queue(lease_owner) WHERE lease_owner IS NOT NULL",
            "CREATE INDEX queue_by_lease_end ON queue(lease_until) WHERE lease_until IS NOT NULL",
            """
            CREATE TABLE queue_schedules (
                id TEXT PRIMARY KEY, destination TEXT NOT NULL, cron TEXT NOT NULL, timezone TEXT, headers TEXT NOT NULL, body BYTEA,
                paused BIGINT NOT NULL DEFAULT 0, created_at BIGINT NOT NULL, next_fire_at BIGINT, last_fire_at BIGINT, last_message_id TEXT)
            """,
        ]),
        // A run's delivery keeps its message from step to step: a lease is told apart by its token.
        Migration(name: "v2: lease tokens", statements: ["ALTER TABLE messages ADD COLUMN lease_token BIGINT"]),
        Migration(name: "v3: deduplication ids of published messages", statements: [
            "CREATE TABLE message_deduplications (key TEXT PRIMARY KEY, message_id TEXT NOT NULL, created_at BIGINT NOT NULL)",
            "CREATE INDEX message_deduplications_by_age ON message_deduplications(created_at)",
        ]),
        Migration(name: "v4: flow-control keys an operator paused or pinned, QStash queues and URL groups", statements: [
            """
            CREATE TABLE flow_keys (
                key TEXT PRIMARY KEY, paused BIGINT NOT NULL DEFAULT 0, pinned_parallelism BIGINT, pinned_rate BIGINT, pinned_period BIGINT)
            """,
            "CREATE INDEX runs_by_rate_key ON runs(rate_key) WHERE rate_key IS NOT NULL",
            "CREATE TABLE named_queues (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
            "ALTER TABLE rate_starts ADD COLUMN rate_limit BIGINT",
            "CREATE TABLE url_groups (name TEXT PRIMARY KEY, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)",
            """
            CREATE TABLE url_group_endpoints (
                group_name TEXT NOT NULL REFERENCES url_groups(name) ON DELETE CASCADE, url TEXT NOT NULL, name TEXT,
                PRIMARY KEY (group_name, url))
            """,
            // Messages due at the same moment are claimed in the order they were queued (a
            // queue's FIFO); SQLite orders by its rowid.
            "ALTER TABLE queue ADD COLUMN seq BIGSERIAL",
            "CREATE INDEX queue_by_flow_order ON queue(flow_key, seq) WHERE flow_key IS NOT NULL",
        ]),
        Migration(name: "v5: the DLQ of plain QStash messages, the message log", statements: [
            """
            CREATE TABLE message_dead_letters (
                id TEXT PRIMARY KEY, message_id TEXT NOT NULL, spec TEXT NOT NULL, body BYTEA, due_at BIGINT NOT NULL, url TEXT NOT NULL,
                url_group TEXT, queue_name TEXT, schedule_id TEXT, label TEXT, response_status BIGINT NOT NULL, response_headers TEXT NOT NULL,
                response_body BYTEA NOT NULL, created_at BIGINT NOT NULL, failed_at BIGINT NOT NULL)
            """,
            "CREATE INDEX message_dead_letters_by_failure ON message_dead_letters(failed_at, id)",
            """
            CREATE TABLE message_events (
                seq BIGSERIAL PRIMARY KEY, time BIGINT NOT NULL, state TEXT NOT NULL, message_id TEXT NOT NULL, url TEXT NOT NULL,
                url_group TEXT, queue_name TEXT, schedule_id TEXT, label TEXT, run_id TEXT, error TEXT, next_delivery_at BIGINT,
                response_status BIGINT, response_headers TEXT, response_body BYTEA, spec TEXT, body BYTEA)
            """,
            "CREATE INDEX message_events_by_time ON message_events(time)",
            "CREATE INDEX message_events_by_message ON message_events(message_id)",
        ]),
        Migration(name: "v6: rate-limit starts by time, for their expiry", statements: [
            "CREATE INDEX rate_starts_by_time ON rate_starts(started_at)",
        ]),
        Migration(name: "v7: the body of a dead-lettered SDK run's failed message (a call's callback)", statements: [
            "ALTER TABLE dead_letters ADD COLUMN message_body BYTEA",
        ]),
        Migration(name: "v8: the workflow DLQ by failure, for its pages", statements: [
            "CREATE INDEX dead_letters_by_failure ON dead_letters(created_at, id)",
        ]),
        Migration(name: "v9: a dead-lettered SDK run's failure callback and how it went, and the answer that failed it", statements: [
            "ALTER TABLE dead_letters ADD COLUMN failure_callback TEXT",
            "ALTER TABLE dead_letters ADD COLUMN failure_callback_state TEXT",
            "ALTER TABLE dead_letters ADD COLUMN failure_callback_message TEXT",
            "ALTER TABLE dead_letters ADD COLUMN response_status BIGINT",
            "ALTER TABLE dead_letters ADD COLUMN response_headers TEXT",
            "ALTER TABLE dead_letters ADD COLUMN response_body BYTEA",
        ]),
        // `Upstash-Label: a,b` gives a run two labels. A trigger keeps their rows (split as
        // `CommaList` splits: on commas, trimmed of spaces and tabs, empty ones dropped) for every
        // writer of `runs.label`, nodes of older versions during a rolling upgrade included; a
        // run's rows go with it through the foreign key. The table lock, taken first, waits for
        // the transactions under way and holds new writers until the commit, so the backfill and
        // the trigger cannot deadlock with a node that locks runs (EXCLUSIVE: it conflicts with
        // the ROW SHARE of `SELECT … FOR UPDATE` too; plain reads go on). `runs_by_label` stays
        // for the older nodes.
        Migration(name: "v10: a run's labels, one row each, for multi-value label filters", statements: [
            // A node of an older version holding a long transaction fails this start after a
            // minute (start the node again) rather than holding every writer of runs behind it.
            "SET LOCAL lock_timeout = '60s'",
            "LOCK TABLE runs IN EXCLUSIVE MODE",
            """
            CREATE TABLE run_labels (
                run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE, label TEXT NOT NULL, created_at BIGINT NOT NULL,
                PRIMARY KEY (run_id, label))
            """,
            "CREATE INDEX run_labels_by_label ON run_labels(label, created_at DESC, run_id)",
            """
            CREATE FUNCTION stepwise_run_labels() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                DELETE FROM run_labels WHERE run_id = NEW.id;
                INSERT INTO run_labels (run_id, label, created_at)
                SELECT DISTINCT NEW.id, btrim(part, E' \\t'), NEW.created_at FROM unnest(string_to_array(NEW.label, ',')) AS part
                WHERE btrim(part, E' \\t') <> '';
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER runs_labels_inserted AFTER INSERT ON runs FOR EACH ROW WHEN (NEW.label IS NOT NULL)
            EXECUTE FUNCTION stepwise_run_labels()
            """,
            """
            CREATE TRIGGER runs_labels_changed AFTER UPDATE OF label ON runs FOR EACH ROW WHEN (OLD.label IS DISTINCT FROM NEW.label)
            EXECUTE FUNCTION stepwise_run_labels()
            """,
            """
            INSERT INTO run_labels (run_id, label, created_at)
            SELECT DISTINCT id, btrim(part, E' \\t'), created_at FROM runs, unnest(string_to_array(label, ',')) AS part
            WHERE label IS NOT NULL AND btrim(part, E' \\t') <> ''
            """,
        ]),
        // A YAML run's key is its flow control's; an SDK run's is kept with its run-level options
        // when it has them (the JS SDK 1.x's, a resume's); others started before have none. A log
        // row keeps its message's stored form only when it was created; the message's other rows
        // take the key from that one; a queue's messages have none of their own
        // (`QueuedMessage.flowControlKey`). Only rows whose JSON names a flow control are read, by
        // a function that gives NULL for what it cannot read, so no stored row can fail the
        // upgrade; it reads a `\u0000` escape (which JSON and JSONB refuse) as `\u0020`, the
        // same length and escape, so the text stays JSON whatever precedes it (a key that holds
        // the literal text `\u0000` is read with `\u0020` in its place). Rows
        // an older node writes during a rolling upgrade have no key (a YAML run's is read from its
        // flow control), and an older node's resume leaves a run's key as it was. The address of
        // a caller is known only from now on.
        Migration(name: "v11: the flow-control key and caller of a run, a logged or dead-lettered message, for their filters", statements: [
            // The tables are locked first, in one order. A node of an older version holding one of
            // them in a long transaction fails this start after a minute rather than holding every
            // writer behind it, and one that deadlocks with it may fail it too: start the node again.
            "SET LOCAL lock_timeout = '60s'",
            "LOCK TABLE runs, message_dead_letters, message_events IN ACCESS EXCLUSIVE MODE",
            """
            CREATE FUNCTION stepwise_flow_key(document TEXT, member TEXT) RETURNS TEXT LANGUAGE plpgsql AS $$
            DECLARE
                flow JSONB;
            BEGIN
                flow := CAST(replace(document, '\\u0000', '\\u0020') AS JSONB);
                IF member IS NOT NULL THEN
                    flow := flow -> member;
                END IF;
                RETURN COALESCE(flow -> 'flowControl' ->> 'concurrencyKey', flow -> 'flowControl' ->> 'rateKey');
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$
            """,
            "ALTER TABLE runs ADD COLUMN caller_ip TEXT",
            "ALTER TABLE message_events ADD COLUMN caller_ip TEXT",
            "ALTER TABLE message_dead_letters ADD COLUMN caller_ip TEXT",
            "ALTER TABLE runs ADD COLUMN flow_key TEXT",
            """
            UPDATE runs SET flow_key = COALESCE(concurrency_key, rate_key, stepwise_flow_key(endpoint_defaults, 'overrides'), stepwise_flow_key(endpoint_defaults, NULL))
            WHERE concurrency_key IS NOT NULL OR rate_key IS NOT NULL OR endpoint_defaults LIKE '%"flowControl"%'
            """,
            "ALTER TABLE message_events ADD COLUMN flow_key TEXT",
            "ALTER TABLE message_dead_letters ADD COLUMN flow_key TEXT",
            "UPDATE message_dead_letters SET flow_key = stepwise_flow_key(spec, NULL) WHERE queue_name IS NULL AND spec LIKE '%\"flowControl\"%'",
            """
            UPDATE message_events SET flow_key = created.key
            FROM (SELECT DISTINCT ON (message_id) message_id, stepwise_flow_key(spec, NULL) AS key FROM message_events
                WHERE spec LIKE '%"flowControl"%' ORDER BY message_id, seq) AS created
            WHERE created.message_id = message_events.message_id AND created.key IS NOT NULL AND message_events.queue_name IS NULL
            """,
            "DROP FUNCTION stepwise_flow_key(TEXT, TEXT)",
        ]),
        Migration(name: "v12: the message log by run, for the deliveries a canceled run dropped", statements: [
            "CREATE INDEX message_events_by_run ON message_events(run_id)",
        ]),
        Migration(name: "v13: the caller of a QStash schedule", statements: [
            "ALTER TABLE queue_schedules ADD COLUMN caller_ip TEXT",
        ]),
        // A node of an older version neither sets nor counts it: during a rolling upgrade a queue
        // may let its next message start while one retries, as before.
        Migration(name: "v14: the queue slot a message keeps from its first attempt to its end, callbacks included", statements: [
            "ALTER TABLE queue ADD COLUMN holds_slot BOOLEAN NOT NULL DEFAULT FALSE",
        ]),
        Migration(name: "v15: a run's deadline, for a run waiting for a slot past it and a resume's fresh timeout", statements: [
            "ALTER TABLE runs ADD COLUMN deadline_at BIGINT",
            "CREATE INDEX messages_waiting_for_slot ON messages (run_id) WHERE waiting_for_slot = 1",
        ]),
    ]

    /// The number of a migration named `vN: …` (0 for another name), to tell the newest.
    private static func version(of name: String) -> Int {
        Int(name.dropFirst().prefix { $0.isNumber }) ?? 0
    }

    /// Applies the migrations this database lacks, one transaction each, while holding the
    /// migration lock (a node starting meanwhile waits, then finds them applied). A database a
    /// newer Stepwise migrated is used (migrations only add, so an older node keeps working
    /// during a rolling upgrade, as SQLite's single process never needs to) with a warning
    /// naming the migration this build lacks.
    static func migrate(_ session: PostgresSession) throws {
        try session.execute("SELECT pg_advisory_lock(?)", [migrationLock])
        defer { _ = try? session.execute("SELECT pg_advisory_unlock(?)", [migrationLock]) }
        try session.execute("CREATE TABLE IF NOT EXISTS stepwise_migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        let applied = Set(try session.values("SELECT name FROM stepwise_migrations", as: String.self))
        if let newest = applied.subtracting(migrations.map(\.name)).max(by: { Self.version(of: $0) < Self.version(of: $1) }) {
            session.logger.warning(
                "this database was migrated by a newer Stepwise (its migration '\(newest)' is unknown here): this node runs as an older node of a rolling upgrade does; upgrade it")
        }
        for migration in migrations where !applied.contains(migration.name) {
            try session.execute("BEGIN")
            do {
                for statement in migration.statements { try session.execute(statement) }
                try session.execute("INSERT INTO stepwise_migrations (name) VALUES (?)", [migration.name])
                try session.execute("COMMIT")
            } catch {
                _ = try? session.execute("ROLLBACK")
                throw error
            }
        }
    }
}
