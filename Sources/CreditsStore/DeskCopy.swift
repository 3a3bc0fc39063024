import CreditsCore
import Foundation
import SQLKit

/// Copies a whole desk, row for row, into an empty one on another engine (SQLite to PostgreSQL,
/// typically). Ledger rows keep their timestamps and hashes, so the copy verifies on its own and
/// its chain head equals the source's.
public enum DeskCopy {
    enum Column { case text, int, optionalText }

    /// Every table, parents before children, with its columns and the key it is read in order of.
    static let tables: [(name: String, key: String, columns: [(String, Column)])] = [
        ("programs", "id", [("id", .text), ("name", .text), ("block_sizes", .text), ("order_credits_min", .int),
                            ("term_months", .int), ("call_off_credits_min", .int), ("engagement_kinds", .text)]),
        ("settings", "name", [("name", .text), ("value", .text)]),
        ("entities", "id", [("id", .text), ("name", .text), ("currency", .text), ("currency_exponent", .int)]),
        ("list_prices", "entity_id, program_id, effective_on", [("entity_id", .text), ("program_id", .text),
                                                               ("effective_on", .text), ("price_minor", .int)]),
        ("customers", "id", [("id", .text), ("name", .text), ("entity_id", .text)]),
        ("offerings", "id", [("id", .text), ("name", .text), ("kind", .text), ("pricing", .text), ("credits", .int),
                             ("deliverables", .text), ("entities", .text)]),
        ("lots", "id", [("id", .int), ("customer_id", .text), ("program_id", .text), ("source", .text),
                        ("purchased_on", .text), ("expires_on", .text), ("credits_granted", .int),
                        ("credits_available", .int), ("credits_held", .int)]),
        ("orders", "id", [("id", .int), ("customer_id", .text), ("program_id", .text), ("entity_id", .text),
                          ("purchase_order", .text), ("blocks", .text), ("ordered_on", .text), ("credits", .int),
                          ("price_minor", .int), ("lot_id", .int), ("invoice_number", .text), ("currency", .text),
                          ("amount_minor", .int)]),
        ("engagements", "id", [("id", .int), ("customer_id", .text), ("program_id", .text), ("purchase_order", .text),
                               ("sow_reference", .text), ("sow_signed_on", .text), ("offering_id", .optionalText),
                               ("title", .text), ("kind", .text), ("deliverables", .text), ("credits", .int),
                               ("called_off_on", .text), ("planned_end_on", .text), ("status", .text),
                               ("status_changed_on", .text)]),
        ("draws", "engagement_id, lot_id", [("engagement_id", .int), ("lot_id", .int), ("credits", .int)]),
        ("ledger_entries", "seq", [("seq", .int), ("kind", .text), ("lot_id", .int), ("customer_id", .text),
                                   ("program_id", .text), ("credits_available_delta", .int), ("credits_held_delta", .int),
                                   ("effective_on", .text), ("recorded_at", .text), ("actor", .text), ("reason", .text),
                                   ("document", .text), ("prev_hash", .text), ("hash", .text)]),
        ("ledger_head", "id", [("id", .int), ("seq", .int), ("hash", .text)]),
        ("id_counters", "name", [("name", .text), ("next_value", .int)]),
        ("statements", "customer_id, quarter", [("customer_id", .text), ("quarter", .text), ("issued_on", .text), ("body", .text)]),
        ("principals", "name", [("name", .text), ("role", .text), ("created_at", .text)]),
        ("principal_customers", "principal, customer_id", [("principal", .text), ("customer_id", .text)]),
        ("api_tokens", "token_hash", [("token_hash", .text), ("principal", .text), ("created_at", .text)]),
        ("idempotency_keys", "principal, idempotency_key", [("principal", .text), ("idempotency_key", .text),
                                                             ("request_hash", .text), ("status", .int), ("body", .text),
                                                             ("created_at", .text)]),
        // Users move with their passwords; sessions don't (everyone signs in again after a move).
        ("portal_users", "principal", [("principal", .text), ("password_hash", .text), ("created_at", .text)]),
    ]

    /// Rows that a new desk is created with; replaced by the source's.
    static let seededTables: Set<String> = ["programs", "settings", "ledger_head", "id_counters"]
    public static let pageSize = 2_000

    /// Copies `source` into `target`, all in one target transaction, reading `pageSize` rows at a
    /// time. Returns rows copied per table.
    public static func copy(from source: DeskDatabase, to target: DeskDatabase, pageSize: Int = Self.pageSize,
                            progress: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws -> [String: Int] {
        precondition(pageSize > 0)
        return try await target.longWrite { destination in
            let used = try await destination.raw("SELECT COUNT(*) AS n FROM ledger_entries").first()?.decode(column: "n", as: Int.self) ?? 0
            let customers = try await destination.raw("SELECT COUNT(*) AS n FROM customers").first()?.decode(column: "n", as: Int.self) ?? 0
            guard used == 0 && customers == 0 else {
                throw Rejection(.alreadyExists, "the target desk is not empty (\(customers) customers, \(used) ledger entries)")
            }
            var counts: [String: Int] = [:]
            for table in tables {
                if seededTables.contains(table.name) {
                    let query: String = "DELETE FROM \(table.name)"
                    try await destination.raw(SQLQueryString(query)).run()
                }
                counts[table.name] = try await copyTable(table, from: source, to: destination, pageSize: pageSize, progress: progress)
            }
            return counts
        }
    }

    /// Rows per INSERT: 14 columns × 200 stays far below both engines' limits on bound values.
    static let insertRowsMax = 200

    static func copyTable(
        _ table: (name: String, key: String, columns: [(String, Column)]), from source: DeskDatabase,
        to destination: any SQLDatabase, pageSize: Int, progress: @escaping @Sendable (String, Int) -> Void
    ) async throws -> Int {
        let keyColumns = table.key.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let keyTypes = keyColumns.map { key in table.columns.first { $0.0 == key }!.1 }
        var copied = 0
        var lastKey: [any Encodable & Sendable]?
        while true {
            // Pages by key, not OFFSET: an offset re-reads every row before it, which made a
            // million-entry copy quadratic. Table and key names come from the list above.
            let after: SQLQueryString = lastKey.map { key in
                "WHERE (\(unsafeRaw: table.key)) > (\(SQLList(key.map { SQLBind($0) })))"
            } ?? ""
            let query: SQLQueryString = "SELECT * FROM \(unsafeRaw: table.name) \(after) ORDER BY \(unsafeRaw: table.key) LIMIT \(unsafeRaw: String(pageSize))"
            let rows = try await source.read { sql in try await sql.raw(query).all() }
            // Many rows per INSERT: one round trip per row made a 100,000-entry copy take minutes.
            for chunk in stride(from: 0, to: rows.count, by: insertRowsMax) {
                let insert = destination.insert(into: table.name).columns(table.columns.map(\.0))
                for row in rows[chunk..<min(chunk + insertRowsMax, rows.count)] {
                    insert.values(try table.columns.map { try value(of: $0.0, as: $0.1, in: row) })
                }
                try await insert.run()
            }
            copied += rows.count
            progress(table.name, copied)
            guard rows.count == pageSize, let last = rows.last else { return copied }
            lastKey = try zip(keyColumns, keyTypes).map { try value(of: $0, as: $1, in: last) }
        }
    }

    static func value(of column: String, as type: Column, in row: any SQLRow) throws -> any Encodable & Sendable {
        switch type {
        case .text: try row.decode(column: column, as: String.self)
        case .int: try row.decode(column: column, as: Int.self)
        case .optionalText: try row.decode(column: column, as: String?.self)
        }
    }
}
