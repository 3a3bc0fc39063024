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
}
