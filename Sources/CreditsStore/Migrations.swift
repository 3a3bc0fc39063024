import SQLKit

/// Versioned schema changes, applied in order, each in its own transaction, recorded in
/// `schema_migrations`. A migration, once released, is never edited: a change is a new version.
///
/// The SQL is the subset SQLite and PostgreSQL both accept (BIGINT for every number, TEXT for
/// dates as `YYYY-MM-DD`), so one list serves both engines.
enum Migrations {
    struct Migration {
        let version: Int
        let name: String
        let statements: [String]
        /// PostgreSQL's form, where it differs from the shared SQL.
        var postgres: [String]? = nil
    }

    static let all: [Migration] = [
        Migration(version: 1, name: "desk schema", statements: [
            """
            CREATE TABLE programs (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, block_sizes TEXT NOT NULL,
                order_credits_min BIGINT NOT NULL, term_months BIGINT NOT NULL,
                call_off_credits_min BIGINT NOT NULL, engagement_kinds TEXT NOT NULL)
            """,
            // Programs are data (RULES.md): a new desk starts with these two rows.
            """
            INSERT INTO programs VALUES
            ('PSC', 'Professional Services Credits', '[1,10,25,50]', 10, 12, 5,
             '["assessment","design","deployment","migration"]'),
            ('FSC', 'Flexible Services Credits', '[1,10,25,50]', 10, 12, 10,
             '["assessment","design","deployment","migration","other"]')
            """,
            """
            CREATE TABLE entities (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, currency TEXT NOT NULL,
                currency_exponent BIGINT NOT NULL)
            """,
            """
            CREATE TABLE list_prices (
                entity_id TEXT NOT NULL REFERENCES entities(id),
                program_id TEXT NOT NULL REFERENCES programs(id),
                effective_on TEXT NOT NULL, price_minor BIGINT NOT NULL CHECK (price_minor > 0),
                PRIMARY KEY (entity_id, program_id, effective_on))
            """,
            """
            CREATE TABLE customers (
                id TEXT PRIMARY KEY, name TEXT NOT NULL,
                entity_id TEXT NOT NULL REFERENCES entities(id))
            """,
            """
            CREATE TABLE offerings (
                id TEXT PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL, pricing TEXT NOT NULL,
                credits BIGINT NOT NULL, deliverables TEXT NOT NULL, entities TEXT NOT NULL)
            """,
            """
            CREATE TABLE lots (
                id BIGINT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
                program_id TEXT NOT NULL REFERENCES programs(id), source TEXT NOT NULL,
                purchased_on TEXT NOT NULL, expires_on TEXT NOT NULL,
                credits_granted BIGINT NOT NULL, credits_available BIGINT NOT NULL,
                credits_held BIGINT NOT NULL,
                CONSTRAINT lot_balances_in_range CHECK (credits_available >= 0 AND credits_held >= 0
                    AND credits_available + credits_held <= credits_granted))
            """,
            "CREATE INDEX lots_by_customer ON lots (customer_id, program_id, expires_on)",
            "CREATE INDEX lots_by_expiry ON lots (expires_on)",
            """
            CREATE TABLE orders (
                id BIGINT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
                program_id TEXT NOT NULL, entity_id TEXT NOT NULL, purchase_order TEXT NOT NULL,
                blocks TEXT NOT NULL, ordered_on TEXT NOT NULL, credits BIGINT NOT NULL,
                price_minor BIGINT NOT NULL, lot_id BIGINT NOT NULL REFERENCES lots(id),
                invoice_number TEXT NOT NULL UNIQUE, currency TEXT NOT NULL, amount_minor BIGINT NOT NULL,
                CONSTRAINT orders_one_po_per_customer UNIQUE (customer_id, purchase_order))
            """,
            """
            CREATE TABLE engagements (
                id BIGINT PRIMARY KEY, customer_id TEXT NOT NULL REFERENCES customers(id),
                program_id TEXT NOT NULL, purchase_order TEXT NOT NULL, sow_reference TEXT NOT NULL,
                sow_signed_on TEXT NOT NULL, offering_id TEXT, title TEXT NOT NULL, kind TEXT NOT NULL,
                deliverables TEXT NOT NULL, credits BIGINT NOT NULL, called_off_on TEXT NOT NULL,
                planned_end_on TEXT NOT NULL, status TEXT NOT NULL, status_changed_on TEXT NOT NULL)
            """,
            "CREATE INDEX engagements_by_customer ON engagements (customer_id, called_off_on)",
            """
            CREATE TABLE draws (
                engagement_id BIGINT NOT NULL REFERENCES engagements(id),
                lot_id BIGINT NOT NULL REFERENCES lots(id), credits BIGINT NOT NULL CHECK (credits > 0),
                PRIMARY KEY (engagement_id, lot_id))
            """,
            """
            CREATE TABLE ledger_entries (
                seq BIGINT PRIMARY KEY, kind TEXT NOT NULL, lot_id BIGINT NOT NULL REFERENCES lots(id),
                customer_id TEXT NOT NULL, program_id TEXT NOT NULL,
                credits_available_delta BIGINT NOT NULL, credits_held_delta BIGINT NOT NULL,
                effective_on TEXT NOT NULL, recorded_at TEXT NOT NULL, actor TEXT NOT NULL,
                reason TEXT NOT NULL, document TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)
            """,
            "CREATE INDEX ledger_by_customer ON ledger_entries (customer_id, effective_on)",
            "CREATE INDEX ledger_by_lot ON ledger_entries (lot_id)",
            // One row: the last entry's sequence number and hash. Every write locks it, so the
            // chain never forks, on either engine.
            """
            CREATE TABLE ledger_head (
                id BIGINT PRIMARY KEY CHECK (id = 1), seq BIGINT NOT NULL, hash TEXT NOT NULL)
            """,
            "INSERT INTO ledger_head (id, seq, hash) VALUES (1, 0, '\(LedgerChain.genesis)')",
            """
            CREATE TABLE id_counters (name TEXT PRIMARY KEY, next_value BIGINT NOT NULL)
            """,
            "INSERT INTO id_counters (name, next_value) VALUES ('order', 1), ('lot', 1), ('engagement', 1)",
            """
            CREATE TABLE statements (
                customer_id TEXT NOT NULL REFERENCES customers(id), quarter TEXT NOT NULL,
                issued_on TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (customer_id, quarter))
            """,
            """
            CREATE TABLE settings (name TEXT PRIMARY KEY, value TEXT NOT NULL)
            """,
            "INSERT INTO settings (name, value) VALUES ('fiscal_year_start_month', '1')",
        ]),
        // The ledger is append-only: the database itself refuses to change or remove an entry.
        // (Someone with the file can still drop the triggers; `credits verify` catches that.)
        Migration(version: 2, name: "append-only ledger", statements: [
            """
            CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END
            """,
            """
            CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
            BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only'); END
            """,
        ], postgres: [
            """
            CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN RAISE EXCEPTION 'ledger entries are append-only'; END $$
            """,
            """
            CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()
            """,
            """
            CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
            FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()
            """,
        ]),
        // API access: principals with a role (and the customers they may see), tokens stored as
        // hashes only, and the idempotency keys of writes.
        Migration(version: 3, name: "accounts and idempotency", statements: [
            """
            CREATE TABLE principals (
                name TEXT PRIMARY KEY, role TEXT NOT NULL, created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE principal_customers (
                principal TEXT NOT NULL REFERENCES principals(name),
                customer_id TEXT NOT NULL REFERENCES customers(id), PRIMARY KEY (principal, customer_id))
            """,
            """
            CREATE TABLE api_tokens (
                token_hash TEXT PRIMARY KEY, principal TEXT NOT NULL REFERENCES principals(name),
                created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE idempotency_keys (
                principal TEXT NOT NULL, idempotency_key TEXT NOT NULL, request_hash TEXT NOT NULL,
                status BIGINT NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL,
                PRIMARY KEY (principal, idempotency_key))
            """,
        ]),
        // Portal sign-in: a password (bcrypt) for a principal, and sessions stored as hashes.
        Migration(version: 4, name: "portal users and sessions", statements: [
            """
            CREATE TABLE portal_users (
                principal TEXT PRIMARY KEY REFERENCES principals(name), password_hash TEXT NOT NULL,
                created_at TEXT NOT NULL)
            """,
            """
            CREATE TABLE portal_sessions (
                token_hash TEXT PRIMARY KEY, principal TEXT NOT NULL REFERENCES principals(name),
                created_at TEXT NOT NULL, expires_at BIGINT NOT NULL)
            """,
        ]),
        // Revocation (hardening L4): a token can expire on a date or be revoked, a portal user can
        // be disabled. Rows are kept, so who acted under a token stays readable.
        Migration(version: 5, name: "token expiry and revocation, disabled users", statements: [
            "ALTER TABLE api_tokens ADD COLUMN expires_on TEXT",
            "ALTER TABLE api_tokens ADD COLUMN revoked_at TEXT",
            "ALTER TABLE portal_users ADD COLUMN disabled_at TEXT",
        ]),
    ]

    static var latestVersion: Int { all.last!.version }

    /// Each migration checks and applies itself inside one write transaction, so two processes
    /// starting at once can't both apply it (writers are serialised on both engines).
    static func apply(to database: DeskDatabase) async throws {
        let postgres = database.engineName == "postgresql"
        try await database.write { sql in
            try await sql.raw("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version BIGINT PRIMARY KEY, name TEXT NOT NULL)
                """).run()
        }
        for migration in all {
            try await database.write { sql in
                let applied = try await sql.raw("SELECT version FROM schema_migrations").all().map {
                    try $0.decode(column: "version", as: Int.self)
                }
                if let newest = applied.max(), newest > latestVersion {
                    throw StoreError(.schemaTooNew,
                        "the database has schema version \(newest), this program knows up to \(latestVersion); use a newer credits")
                }
                guard !applied.contains(migration.version) else { return }
                for statement in (postgres ? migration.postgres : nil) ?? migration.statements {
                    try await sql.raw(SQLQueryString(statement)).run()
                }
                try await sql.raw("""
                    INSERT INTO schema_migrations (version, name) VALUES (\(bind: migration.version), \(bind: migration.name))
                    """).run()
            }
        }
    }
}
