import CreditsCore
@testable import CreditsStore
import SQLKit
import Testing

/// The writes an operation holds back and sends together (`DeferringDatabase`): on PostgreSQL one
/// statement, on SQLite one after the other. Run on both engines like the store contract.
@Suite("Held writes (SQLite file, or PostgreSQL with CREDITS_TEST_DATABASE)")
struct DeferredWritesTests {
    static func adjustment(_ credits: Int, lot: Lot.ID) -> LedgerEntry {
        LedgerEntry(kind: .adjustment, lot: lot, customer: "acme", program: "PSC", creditsAvailableDelta: credits,
                    creditsHeldDelta: 0, effectiveOn: StoreHarness.date("2026-01-12"), actor: "ops", reason: "test",
                    document: "adjustment")
    }

    @Test("two entries on one lot in one append move it by both; a statement after them sees them")
    func movesOfOneLotAddUp() async throws {
        try await StoreHarness.withDesk { desk in
            let order = try await desk.order(10, po: "PO-1", on: "2026-01-10")
            let entries = [Self.adjustment(-3, lot: order.lot), Self.adjustment(-4, lot: order.lot)]
            let seen = try await desk.store.database.write { sql in
                let lot = try Rows.lot(try #require(try await sql.raw("SELECT * FROM lots WHERE id = \(bind: order.lot.rawValue)").first()))
                // PostgreSQL applies only one of two updates of a row in one statement: the two
                // moves must go as one, or the projection check stops the process.
                try await Ledger.append(entries, expecting: [lot.applying(entries[0]).applying(entries[1])],
                                        recordedAt: "2026-01-12T09:00:00Z", on: sql)
                // Held until this read, which sends them first.
                return try await sql.raw("SELECT credits_available FROM lots WHERE id = \(bind: order.lot.rawValue)")
                    .first()?.decode(column: "credits_available", as: Int.self)
            }
            #expect(seen == 3)
            let balance = try await desk.store.balances(of: "acme", today: StoreHarness.date("2026-01-12")).first { $0.program == "PSC" }
            #expect(balance?.creditsAvailable == 3)
            let report = try await desk.store.verify()
            #expect(report.isClean && report.entriesChecked == 3)
        }
    }

    @Test("an expiry of more lots than a send holds goes in parts, and every lot and entry is there")
    func moreThanOneSend() async throws {
        try await StoreHarness.withDesk { desk in
            let lots = PendingWrites.heldMax + 8
            for n in 1...lots { try await desk.order(10, po: "PO-\(n)", on: "2025-01-10") }
            let expired = try await desk.store.expire(asOf: StoreHarness.date("2026-01-11"), actor: StoreHarness.ops)
            #expect(expired.count == lots)
            let balance = try await desk.store.balances(of: "acme", today: StoreHarness.date("2026-01-11")).first { $0.program == "PSC" }
            #expect(balance?.creditsAvailable == 0 && balance?.creditsHeld == 0)
            let report = try await desk.store.verify()
            #expect(report.isClean && report.entriesChecked == 2 * lots)
        }
    }

    @Test("a held write that fails fails its operation, and nothing of it stays")
    func failingHeldWrite() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(10, po: "PO-1", on: "2026-01-10")
            let before = try await desk.snapshot()
            await #expect(throws: (any Error).self) {
                try await desk.store.database.write { sql in
                    try await Ledger.append([Self.adjustment(-3, lot: 1)], expecting: [], recordedAt: "2026-01-12T09:00:00Z", on: sql)
                    // No draw of 0 credits (a CHECK): it fails when the held writes go, after the entry.
                    try await sql.later("INSERT INTO draws (engagement_id, lot_id, credits) VALUES (1, 1, 0)")
                }
            }
            #expect(try await desk.snapshot() == before)
        }
    }
}
