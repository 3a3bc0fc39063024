import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import Testing

/// What only PostgreSQL can show. Without `CREDITS_TEST_DATABASE=postgres://…` these are skipped,
/// and the test run says so by name.
@Suite("PostgreSQL only", .enabled(if: ScratchDesk.postgresURL != nil, "set CREDITS_TEST_DATABASE=postgres://… to run"))
struct PostgresTests {
    @Test("two connection pools on one database, as two server processes, never double-spend")
    func twoProcessesOneLedger() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(50, po: "PO-1", on: "2026-01-10")
            try await desk.order(50, po: "PO-2", on: "2026-01-20")
            let second = DeskStore(database: try await desk.scratch.reopen())
            let outcomes = try await withThrowingTaskGroup(of: RejectionCode?.self) { group in
                for index in 0..<40 {
                    let store = index.isMultiple(of: 2) ? desk.store : second
                    group.addTask {
                        await rejectionCode {
                            _ = try await store.callOff(
                                CallOffRequest(customer: "acme", program: "PSC", purchaseOrder: "PO-CO", sowReference: "SOW",
                                               sowSignedOn: StoreHarness.date("2026-02-01"),
                                               custom: CustomEngagement(title: "T", kind: .design, pricing: .fixedScope,
                                                                        deliverables: ["D"], credits: 5),
                                               plannedEndOn: StoreHarness.date("2026-06-01")),
                                today: StoreHarness.date("2026-02-01"), actor: StoreHarness.ops)
                        }
                    }
                }
                return try await group.reduce(into: [RejectionCode?]()) { $0.append($1) }
            }
            await second.database.close()
            #expect(outcomes.filter { $0 == nil }.count == 20)
            #expect(outcomes.filter { $0 == .insufficientCredits }.count == 20)
            #expect(try await desk.store.verify().isClean)
        }
    }

    /// The desk runs a statement a connection has seen before as a named prepared statement. Its
    /// parameters take their binds' types, as unnamed statements' do: typed from their use, the
    /// INTEGER column would make PostgreSQL expect four bytes where eight are sent.
    @Test("a statement run again on one connection is prepared with its binds' types, and answers as before")
    func preparedStatements() async throws {
        try await StoreHarness.withDesk { desk in
            let database = desk.store.database
            try await database.write { sql in try await sql.raw("CREATE TABLE prepared_probe (n INTEGER NOT NULL, note TEXT)").run() }
            let (rows, prepared) = try await database.write { sql in
                // A text note and a null one: the same text, prepared apart, each when seen again.
                for n in 1...4 {
                    let note: String? = n.isMultiple(of: 2) ? nil : "note \(n)"
                    try await sql.raw("INSERT INTO prepared_probe (n, note) VALUES (\(bind: n), \(bind: note))").run()
                }
                var rows: [[String]] = []
                for low in [2, 3, 2] {
                    rows.append(try await sql.raw("""
                        SELECT '$1' AS literal, n, note FROM prepared_probe WHERE n >= \(bind: low) ORDER BY n
                        """).all().map {
                        "\(try $0.decode(column: "literal", as: String.self)) \(try $0.decode(column: "n", as: Int.self)) \(try $0.decode(column: "note", as: String?.self) ?? "-")"
                    })
                }
                let prepared = try await sql.raw("SELECT statement FROM pg_prepared_statements ORDER BY statement").all()
                    .map { try $0.decode(column: "statement", as: String.self) }
                return (rows, prepared)
            }
            #expect(rows == [["$1 2 -", "$1 3 note 3", "$1 4 -"], ["$1 3 note 3", "$1 4 -"], ["$1 2 -", "$1 3 note 3", "$1 4 -"]])
            #expect(prepared.contains("INSERT INTO prepared_probe (n, note) VALUES ($1::BIGINT, $2::TEXT)"))
            #expect(prepared.contains("INSERT INTO prepared_probe (n, note) VALUES ($1::BIGINT, $2)"))
            #expect(prepared.contains("SELECT '$1' AS literal, n, note FROM prepared_probe WHERE n >= $1::BIGINT ORDER BY n"))
        }
    }

    @Test("a SQLite desk copied to PostgreSQL verifies, with the same chain head")
    func migrateData() async throws {
        let sqlite = try await ScratchDesk.make(postgresURL: nil)
        let postgres = try await ScratchDesk.make()
        do {
            let source = StoreHarness(store: DeskStore(database: sqlite.database), scratch: sqlite)
            try await source.seedCatalog()
            try await source.order(30, po: "PO-1", on: "2026-01-10")
            let engagement = try await source.callOff(10, on: "2026-01-11", plannedEnd: "2026-03-01")
            _ = try await source.store.transition(engagement.id, .cancel, today: StoreHarness.date("2026-01-12"), actor: StoreHarness.ops)
            _ = try await source.store.statement(of: "acme", quarter: Quarter("2026Q1")!, today: StoreHarness.date("2026-04-01"))
            let counts = try await DeskCopy.copy(from: sqlite.database, to: postgres.database, pageSize: 2)
            #expect(counts["ledger_entries"] == 3 && counts["customers"] == 2 && counts["statements"] == 1)
            let before = try await source.store.verify()
            let after = try await DeskStore(database: postgres.database).verify()
            #expect(before.isClean && after.isClean && before.headHash == after.headHash)
            // The copy is a working desk: it goes on numbering where the source stopped.
            let next = try await DeskStore(database: postgres.database).placeOrder(
                OrderRequest(customer: "acme", program: "PSC", entity: "JN-DE", purchaseOrder: "PO-2", blocks: [BlockLine(size: 10, count: 1)]),
                today: StoreHarness.date("2026-01-13"), actor: StoreHarness.ops)
            #expect(next.id == 2 && next.lot == 2)
        } catch {
            await sqlite.discard()
            await postgres.discard()
            throw error
        }
        await sqlite.discard()
        await postgres.discard()
    }
}
