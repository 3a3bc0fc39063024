import CreditsCore
import Foundation
import SQLKit

/// Writes what the core decided: appends entries to the chain and moves the lot projections in
/// the same transaction (R16: balances change only through entries).
enum Ledger {
    /// Appends `entries` in order and applies each to its lot. `expected` are the lots as the core
    /// computed them; the stored projection must come out the same, or the process stops. The
    /// entries and the lots' moves are held and sent with the operation's other writes
    /// (`DeferringDatabase`), which checks the lots then.
    static func append(
        _ entries: [LedgerEntry], expecting expected: [Lot], recordedAt: String, on sql: any SQLDatabase
    ) async throws {
        guard !entries.isEmpty else { return }
        try await DeferringDatabase.within(sql) { sql in
            let head = try await head(on: sql)
            var seq = head.seq
            var prevHash = head.hash
            for entry in entries {
                BatchMemory.current?.moving(entry.customer)
                seq += 1
                let hash = LedgerChain.hash(seq: seq, entry: entry, recordedAt: recordedAt, prevHash: prevHash)
                try await sql.later("""
                    INSERT INTO ledger_entries (seq, kind, lot_id, customer_id, program_id,
                        credits_available_delta, credits_held_delta, effective_on, recorded_at, actor,
                        reason, document, prev_hash, hash)
                    VALUES (\(bind: seq), \(bind: entry.kind.rawValue), \(bind: entry.lot.rawValue),
                        \(bind: entry.customer.rawValue), \(bind: entry.program.rawValue),
                        \(bind: entry.creditsAvailableDelta), \(bind: entry.creditsHeldDelta),
                        \(bind: entry.effectiveOn.description), \(bind: recordedAt), \(bind: entry.actor),
                        \(bind: entry.reason), \(bind: entry.document), \(bind: prevHash), \(bind: hash))
                    """)
                try await sql.later(move: entry.lot, available: entry.creditsAvailableDelta, held: entry.creditsHeldDelta)
                prevHash = hash
            }
            let newHead = BatchMemory.LedgerHead(seq: seq, hash: prevHash)
            if let memory = BatchMemory.current {
                // The batch stores the head once, before its COMMIT.
                memory.remember(newHead)
            } else {
                try await storeHead(newHead, on: sql)
            }
            sql.expect(expected)
        }
    }

    static func storeHead(_ head: BatchMemory.LedgerHead, on sql: any SQLDatabase) async throws {
        try await sql.later("UPDATE ledger_head SET seq = \(bind: head.seq), hash = \(bind: head.hash) WHERE id = 1")
    }

    /// The chain's last entry: as an earlier write of this batch left it, or as stored.
    static func head(on sql: any SQLDatabase) async throws -> BatchMemory.LedgerHead {
        if let memory = BatchMemory.current { return try await memory.ledgerHead(on: sql) }
        guard let row = try await sql.raw("SELECT seq, hash FROM ledger_head WHERE id = 1").first() else {
            throw StoreError(.corruptRow, "ledger_head row is missing")
        }
        return .init(seq: try row.decode(column: "seq", as: Int.self), hash: try row.decode(column: "hash", as: String.self))
    }

    /// Check a property where it is written (TIGER_STYLE): the stored lot equals the core's lot.
    /// `stored` holds the lots as their last UPDATE returned them; others are read back.
    static func checkProjection(_ lots: some Collection<Lot>, stored: [Lot.ID: Lot], on sql: any SQLDatabase) async throws {
        for lot in lots {
            var projection = stored[lot.id]
            if projection == nil {
                projection = try await sql.raw("SELECT * FROM lots WHERE id = \(bind: lot.id.rawValue)").first().map(Rows.lot)
            }
            precondition(projection == lot, "lot \(lot.id) stored as \(String(describing: projection)), core decided \(lot)")
        }
    }

    static func insertLot(_ lot: Lot, on sql: any SQLDatabase) async throws {
        // Inserted empty: its credits arrive through its first ledger entry, like every change.
        try await sql.raw("""
            INSERT INTO lots (id, customer_id, program_id, source, purchased_on, expires_on,
                credits_granted, credits_available, credits_held)
            VALUES (\(bind: lot.id.rawValue), \(bind: lot.customer.rawValue), \(bind: lot.program.rawValue),
                \(bind: lot.source.rawValue), \(bind: lot.purchasedOn.description),
                \(bind: lot.expiresOn.description), \(bind: lot.creditsGranted), 0, 0)
            """).run()
    }

    /// The next number of a sequence (orders, lots, engagements). Inside the write transaction,
    /// so a rolled-back operation gives its number back. In a batch, the counter is read once and
    /// kept in the batch's memory, which stores it before COMMIT.
    static func nextID(_ name: String, on sql: any SQLDatabase) async throws -> Int {
        if let memory = BatchMemory.current { return try await memory.takeID(name, on: sql) }
        let row = try await sql.raw("""
            UPDATE id_counters SET next_value = next_value + 1 WHERE name = \(bind: name) RETURNING next_value
            """).first()
        return try counterValue(row, name) - 1
    }

    static func storeNextID(_ name: String, _ next: Int, on sql: any SQLDatabase) async throws {
        try await sql.later("UPDATE id_counters SET next_value = \(bind: next) WHERE name = \(bind: name)")
    }

    private static func counterValue(_ row: (any SQLRow)?, _ name: String) throws -> Int {
        guard let row else { throw StoreError(.corruptRow, "id counter \(name) is missing") }
        return try row.decode(column: "next_value", as: Int.self)
    }
}
