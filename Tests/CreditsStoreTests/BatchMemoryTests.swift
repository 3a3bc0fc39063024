import CreditsCore
@testable import CreditsStore
import SQLKit
import Testing

/// What a batch reads ahead for its writes, and when it stops trusting it (`BatchMemory`).
@Suite("Batch memory (SQLite file, or PostgreSQL with CREDITS_TEST_DATABASE)")
struct BatchMemoryTests {
    @Test("parties read ahead stay good until a write moves the customer's lots or runs a statement of its own")
    func readAheadGoesStale() async throws {
        try await StoreHarness.withDesk { desk in
            let acmeOrder = try await desk.order(10, po: "PO-1", on: "2026-01-10")
            try await desk.order(20, customer: "globex", po: "PO-2", on: "2026-01-10")
            let acme = CallOffTarget(customer: "acme", program: "PSC")
            let globex = CallOffTarget(customer: "globex", program: "PSC")
            let unknown = CallOffTarget(customer: "nobody", program: "PSC")
            let memory = BatchMemory()
            let seen = try await desk.store.database.write { sql in
                try await memory.readAhead([ReadAhead(callOff: acme), ReadAhead(callOff: globex), ReadAhead(callOff: unknown)], on: sql)
                return try await BatchMemory.$current.withValue(memory) { () -> [[Int]?] in
                    var seen = [memory.knownParties(acme)?.lots.map(\.creditsAvailable), memory.knownParties(unknown)?.lots.map(\.creditsAvailable)]
                    // A move of acme's lots makes acme's stale, not globex's.
                    memory.moving("acme")
                    seen += [memory.knownParties(acme)?.lots.map(\.creditsAvailable), memory.knownParties(globex)?.lots.map(\.creditsAvailable)]
                    // A read changes nothing; a statement that may change anything makes all stale.
                    _ = try await sql.raw("SELECT id FROM lots WHERE id = \(bind: acmeOrder.lot.rawValue)").first()
                    seen.append(memory.knownParties(globex)?.lots.map(\.creditsAvailable))
                    try await sql.raw("UPDATE customers SET name = name WHERE id = 'globex'").run()
                    seen.append(memory.knownParties(globex)?.lots.map(\.creditsAvailable))
                    return seen
                }
            }
            #expect(seen == [[10], nil, nil, [20], [20], nil])
        }
    }

    @Test("a read ahead for several call-offs gives each party its own lots in order, and is not used past its row bound")
    func readAheadForSeveral() async throws {
        try await StoreHarness.withDesk { desk in
            for (customer, credits) in [("acme", 10), ("globex", 20), ("acme", 30), ("acme", 40), ("globex", 50)] {
                try await desk.order(credits, customer: Customer.ID(customer), po: "PO-\(credits)", on: "2026-01-10")
            }
            let acme = CallOffTarget(customer: "acme", program: "PSC")
            let globex = CallOffTarget(customer: "globex", program: "PSC")
            let read = try await desk.store.database.read { sql in try await DeskStore.callOffParties([acme, globex], on: sql) }
            #expect(read[acme]?.lots.map(\.creditsAvailable) == [10, 30, 40])
            #expect(read[globex]?.lots.map(\.creditsAvailable) == [20, 50])
            #expect(read[acme]?.customer.id == "acme" && read[globex]?.program.id == "PSC")

            // Two parties may have 2 × the bound of rows between them; acme alone now has more.
            let extra = 2 * Limits.lotsPerCustomerMax
            try await desk.store.database.write { sql in
                try await sql.raw("""
                    INSERT INTO lots (id, customer_id, program_id, source, purchased_on, expires_on,
                        credits_granted, credits_available, credits_held)
                    WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < \(unsafeRaw: String(extra)))
                    SELECT 1000000 + i, 'acme', 'PSC', 'order', '2026-01-10', '2027-01-09', 1, 1, 0 FROM n
                    """).run()
            }
            let (several, single) = try await desk.store.database.read { sql in
                (try await DeskStore.callOffParties([acme, globex], on: sql), try await DeskStore.callOffParties([acme], on: sql))
            }
            #expect(several.isEmpty, "a read past its bound may have cut globex short for acme, so it gives nothing")
            #expect(single[acme]?.lots.count == Limits.lotsPerCustomerMax, "one party's read cuts at the bound, as before")
        }
    }

    @Test("a missing chain head or id counter row is a corrupt store, not a number made up", arguments: ["ledger_head", "id_counters"])
    func missingSequenceRow(table: String) async throws {
        try await StoreHarness.withDesk { desk in
            let thrown = await #expect(throws: StoreError.self) {
                try await desk.store.database.write { sql in
                    try await sql.raw(SQLQueryString(table == "ledger_head" ? "DELETE FROM ledger_head" : "DELETE FROM id_counters WHERE name = 'lot'")).run()
                    let memory = BatchMemory()
                    _ = try await memory.ledgerHead(on: sql)
                    _ = try await memory.takeID("lot", on: sql)
                }
            }
            #expect(thrown?.code == .corruptRow)
            #expect(thrown?.message.contains(table == "ledger_head" ? "ledger_head" : "lot") == true)
        }
    }
}
