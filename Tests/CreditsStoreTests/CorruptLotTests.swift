import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import Testing

@Suite("A lot row that breaks R16")
struct CorruptLotTests {
    /// Someone with the database drops the CHECK (PostgreSQL) or turns checks off (SQLite) and
    /// edits a lot. Reading it must report a corrupt row, not stop the server in the core's
    /// precondition, and `verify` names the lot.
    @Test("R16: reading a lot edited below zero is a corrupt-row error, and verify names the lot")
    func corruptLotIsReported() async throws {
        try await StoreHarness.withDesk { desk in
            let order = try await desk.store.placeOrder(
                OrderRequest(customer: "acme", program: "PSC", entity: "JN-DE", purchaseOrder: "PO-R16",
                             blocks: [BlockLine(size: 10, count: 1)]),
                today: StoreHarness.date("2026-03-15"), actor: StoreHarness.ops)
            try await desk.store.database.write { sql in
                if desk.isPostgres {
                    try await sql.raw("ALTER TABLE lots DROP CONSTRAINT lot_balances_in_range").run()
                } else {
                    try await sql.raw("PRAGMA ignore_check_constraints = ON").run()
                }
                try await sql.raw("UPDATE lots SET credits_available = -5 WHERE id = \(bind: order.lot.rawValue)").run()
                if !desk.isPostgres { try await sql.raw("PRAGMA ignore_check_constraints = OFF").run() }
            }
            do {
                _ = try await desk.store.balances(of: "acme", today: StoreHarness.date("2026-03-15"))
                Issue.record("a lot below zero was read as a lot")
            } catch let error as StoreError {
                #expect(error.code == .corruptRow)
                #expect(error.message.contains("lot \(order.lot.rawValue)"))
            }
            let report = try await desk.store.verify()
            #expect(report.failure?.contains("lot \(order.lot.rawValue)") == true, "\(report.failure ?? "clean")")
        }
    }
}
