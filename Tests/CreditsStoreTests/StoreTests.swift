import CreditsCore
@testable import CreditsStore
import Foundation
import SQLKit
import Synchronization
import Testing

@Suite("Store contract (SQLite file, or PostgreSQL with CREDITS_TEST_DATABASE)")
struct StoreTests {
    @Test("an order, a call-off over two lots, delivery: balances, ledger and verify agree")
    func lifeOfACredit() async throws {
        try await StoreHarness.withDesk { desk in
            let first = try await desk.order(10, po: "PO-1", on: "2026-01-10")
            try await desk.order(25, po: "PO-2", on: "2026-02-10")
            #expect(first.invoice.amountMinor == 1_400_000 && first.invoice.currency == "EUR")
            let engagement = try await desk.callOff(15, on: "2026-03-01", plannedEnd: "2026-06-30")
            #expect(engagement.draws == [Draw(lot: 1, credits: 10), Draw(lot: 2, credits: 5)])
            // Both draws are stored (one INSERT of two rows, after the engagement's).
            #expect(try await desk.store.engagement(engagement.id).draws == engagement.draws)
            _ = try await desk.store.transition(engagement.id, .start, today: StoreHarness.date("2026-03-05"), actor: StoreHarness.ops)
            _ = try await desk.store.transition(engagement.id, .deliver, today: StoreHarness.date("2026-06-01"), actor: StoreHarness.ops)
            let balance = try await desk.store.balances(of: "acme", today: StoreHarness.date("2026-06-02")).first { $0.program == "PSC" }
            #expect(balance?.creditsAvailable == 20 && balance?.creditsHeld == 0)
            let kinds = try await desk.store.ledger().map(\.entry.kind)
            #expect(kinds == [.purchase, .purchase, .callOff, .callOff, .delivery, .delivery])
            let report = try await desk.store.verify()
            #expect(report.isClean && report.entriesChecked == 6)
        }
    }

    @Test("balances in one statement: every program, lots in one of them, none at all, an unknown customer")
    func balancesOfEveryProgram() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(12, po: "PO-1", on: "2026-01-10")
            try await desk.order(25, po: "PO-2", on: "2026-02-10")
            _ = try await desk.callOff(15, on: "2026-03-01", plannedEnd: "2026-06-30")
            let today = StoreHarness.date("2026-12-20")
            let acme = try await desk.store.balances(of: "acme", today: today)
            #expect(acme.map(\.program) == ["FSC", "PSC"])
            #expect(acme.map(\.creditsAvailable) == [0, 22] && acme.map(\.creditsHeld) == [0, 15])
            #expect(acme[1].creditsExpiringWithin30Days == 0 && acme[1].creditsExpiringWithin60Days == 22)
            // The several-statement view of the same moment agrees.
            let summary = try await desk.store.summary(of: "acme", today: today)
            #expect(summary.balances == acme && acme[1].nextExpiryOn == summary.lots.last?.expiresOn)
            let globex = try await desk.store.balances(of: "globex", today: today)
            #expect(globex.map(\.program) == ["FSC", "PSC"] && globex.allSatisfy { $0.creditsAvailable == 0 && $0.nextExpiryOn == nil })
            #expect(await rejectionCode { _ = try await desk.store.balances(of: "nobody", today: today) } == .unknownCustomer)
        }
    }

    @Test("R10 a call-off draws on the lots of the program asked for, by that program's minimum; unknown names the customer first")
    func callOffProgramAndLots() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(20, po: "PO-P", on: "2026-01-10")
            try await desk.order(20, po: "PO-F", on: "2026-01-11", program: "FSC")
            try await desk.order(20, customer: "globex", po: "PO-G", on: "2026-01-12")
            func callOff(_ credits: Int, _ customer: Customer.ID, _ program: Program.ID) async throws -> Engagement {
                try await desk.callOff(credits, customer: customer, on: "2026-03-01", plannedEnd: "2026-06-30", program: program)
            }
            let lots = try await desk.store.summary(of: "acme", today: StoreHarness.date("2026-03-01")).lots
            let pscLot = try #require(lots.first { $0.program == "PSC" }).id
            let fscLot = try #require(lots.first { $0.program == "FSC" }).id
            // Each draws on the customer's lot of the program asked for, by that program's minimum (R10).
            #expect(try await callOff(5, "acme", "PSC").draws == [Draw(lot: pscLot, credits: 5)])
            #expect(await rejectionCode { _ = try await callOff(5, "acme", "FSC") } == .minimumCallOff)
            #expect(try await callOff(10, "acme", "FSC").draws == [Draw(lot: fscLot, credits: 10)])
            // A customer without lots of the program, and what is unknown: the customer named first.
            let refusals: [(Customer.ID, Program.ID, RejectionCode)] = [
                ("globex", "FSC", .insufficientCredits), ("nobody", "PSC", .unknownCustomer),
                ("acme", "XYZ", .unknownProgram), ("nobody", "XYZ", .unknownCustomer),
            ]
            for (customer, program, code) in refusals {
                #expect(await rejectionCode { _ = try await callOff(10, customer, program) } == code, "\(customer) \(program)")
            }
        }
    }

    /// How each of 40 concurrent writes ended, and how many times their bodies ran in all.
    /// `body` gets the write's number; what it throws fails that write.
    private static func concurrentWrites(
        on database: DeskDatabase, _ body: @escaping @Sendable (any SQLDatabase, Int) async throws -> Void
    ) async throws -> (kept: [Int], succeeded: [Int], runs: Int, runsInBatches: Int) {
        try await database.write { sql in try await sql.raw("CREATE TABLE batch_probe (n INTEGER NOT NULL)").run() }
        final class Runs: Sendable { let count = Mutex(0), inBatches = Mutex(0) }
        let runs = Runs()
        // Enough at once that they queue behind each other and share transactions.
        let outcomes = await withTaskGroup(of: (Int, Bool).self) { group in
            for n in 0..<40 {
                group.addTask {
                    do {
                        try await database.write { sql in
                            runs.count.withLock { $0 += 1 }
                            // A write alone in its transaction has no batch memory.
                            if BatchMemory.current != nil { runs.inBatches.withLock { $0 += 1 } }
                            try await body(sql, n)
                        }
                        return (n, true)
                    } catch { return (n, false) }
                }
            }
            return await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        let kept = try await database.read { sql in
            try await sql.raw("SELECT n FROM batch_probe ORDER BY n").all().map { try $0.decode(column: "n", as: Int.self) }
        }
        return (kept, outcomes.filter(\.value).keys.sorted(), runs.count.withLock { $0 }, runs.inBatches.withLock { $0 })
    }

    @Test("writes committed together: one that fails after writing, or after a failed statement, leaves the others whole",
          arguments: ["after-writing", "failed-statement"])
    func failedWriteInABatch(failure: String) async throws {
        struct Refused: Error {}
        try await StoreHarness.withDesk { desk in
            let outcome = try await Self.concurrentWrites(on: desk.store.database) { sql, n in
                let failing = n % 3 == 1
                // A failed statement aborts a PostgreSQL transaction: its batch must start again without it.
                if failing && failure == "failed-statement" { try await sql.raw("SELECT n FROM no_such_table").run() }
                try await sql.raw("INSERT INTO batch_probe (n) VALUES (\(bind: n))").run()
                if failing { throw Refused() }
            }
            let kept = (0..<40).filter { $0 % 3 != 1 }
            #expect(outcome.kept == kept)
            #expect(outcome.succeeded == kept)
            #expect(outcome.runsInBatches > 1, "writes shared batches, so a failing one had others to spoil")
        }
    }

    @Test("a write that fails before writing leaves its batch going: no write runs twice")
    func refusedBeforeWriting() async throws {
        struct Refused: Error {}
        try await StoreHarness.withDesk { desk in
            let outcome = try await Self.concurrentWrites(on: desk.store.database) { sql, n in
                _ = try await sql.raw("SELECT COUNT(*) AS c FROM batch_probe").first()
                if n % 3 == 1 { throw Refused() }
                try await sql.raw("INSERT INTO batch_probe (n) VALUES (\(bind: n))").run()
            }
            let kept = (0..<40).filter { $0 % 3 != 1 }
            #expect(outcome.kept == kept)
            #expect(outcome.succeeded == kept)
            // A refusal that wrote nothing spoils nothing: no batch was rolled back and run again,
            // though writes did share batches with refusals.
            #expect(outcome.runs == 40)
            #expect(outcome.runsInBatches > 1)
        }
    }

    @Test("call-offs committed together, every third rolled back after it appended: the chain and the ids stay whole")
    func chainAcrossABatch() async throws {
        struct Refused: Error {}
        try await StoreHarness.withDesk { desk in
            try await desk.order(200, po: "PO-1", on: "2026-01-10")
            let database = desk.store.database
            let request = StoreHarness.callOffRequest(5, on: "2026-01-11", plannedEnd: "2026-03-01")
            let day = StoreHarness.date("2026-01-11")
            let made = await withTaskGroup(of: Engagement.ID?.self) { group in
                for n in 0..<30 {
                    group.addTask {
                        try? await database.write { sql in
                            let engagement = try await DeskStore.callOff(
                                request, today: day, actor: StoreHarness.ops, recordedAt: "2026-01-11T09:00:00Z", on: sql)
                            if n % 3 == 1 {
                                // A statement sends the held writes first: these fail after writing.
                                let entries = try await sql.raw("SELECT COUNT(*) AS n FROM ledger_entries").first()
                                _ = try entries?.decode(column: "n", as: Int.self)
                                throw Refused()
                            }
                            return engagement.id
                        }
                    }
                }
                return await group.reduce(into: [Int]()) { made, id in if let id { made.append(id.rawValue) } }
            }
            // A rolled-back call-off gives its number back, so the 20 made have 1...20.
            #expect(made.sorted() == Array(1...20))
            let report = try await desk.store.verify()
            #expect(report.isClean && report.entriesChecked == 1 + 20)
            let held = try await desk.store.balances(of: "acme", today: day).first { $0.program == "PSC" }?.creditsHeld
            #expect(held == 100)
            // The counter was stored with the batch: the next call-off takes the next number.
            let next = try await desk.callOff(5, on: "2026-01-11", plannedEnd: "2026-03-01")
            #expect(next.id.rawValue == 21)
        }
    }

    @Test("what was committed is there after the file is closed and opened again")
    func durableAcrossReopen() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(30, po: "PO-1", on: "2026-01-10")
            _ = try await desk.callOff(5, on: "2026-01-11", plannedEnd: "2026-03-01")
            let before = try await desk.snapshot()
            let reopened = DeskStore(database: try await desk.scratch.reopen())
            let entries = try await reopened.ledger()
            let verified = try await reopened.verify()
            await reopened.database.close()
            #expect(entries == before.entries)
            #expect(verified.isClean && verified.entriesChecked == 2)
        }
    }

    @Test("a refused operation writes nothing, not even an id", arguments: [
        "minimum-order", "duplicate-po", "wrong-entity", "unknown-customer", "insufficient-credits",
        "not-deliverable-in-entity", "minimum-call-off", "invalid-transition", "adjustment-exceeds-balance",
        "unknown-engagement", "unknown-offering",
    ])
    func refusalsChangeNothing(code: String) async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(12, po: "PO-1", on: "2026-01-10")
            let delivered = try await desk.callOff(5, on: "2026-01-11", plannedEnd: "2026-02-01")
            let before = try await desk.snapshot()
            let today = StoreHarness.date("2026-01-12")
            let store = desk.store, ops = StoreHarness.ops
            let got = await rejectionCode {
                switch code {
                case "minimum-order": try await desk.order(9, po: "PO-9", on: "2026-01-12")
                case "duplicate-po": try await desk.order(10, po: "PO-1", on: "2026-01-12")
                case "wrong-entity":
                    _ = try await store.placeOrder(OrderRequest(customer: "acme", program: "PSC", entity: "JN-US", purchaseOrder: "X",
                                                                blocks: [BlockLine(size: 10, count: 1)]), today: today, actor: ops)
                case "unknown-customer": try await desk.order(10, customer: "nobody", po: "PO-3", on: "2026-01-12")
                case "insufficient-credits": _ = try await desk.callOff(8, on: "2026-01-12", plannedEnd: "2026-02-01")
                case "not-deliverable-in-entity":
                    _ = try await store.callOff(CallOffRequest(customer: "acme", program: "PSC", purchaseOrder: "P", sowReference: "S",
                                                               sowSignedOn: today, offering: "us-only", plannedEndOn: today), today: today, actor: ops)
                case "unknown-offering":
                    _ = try await store.callOff(CallOffRequest(customer: "acme", program: "PSC", purchaseOrder: "P", sowReference: "S",
                                                               sowSignedOn: today, offering: "nope", plannedEndOn: today), today: today, actor: ops)
                case "minimum-call-off": _ = try await desk.callOff(4, on: "2026-01-12", plannedEnd: "2026-02-01")
                case "invalid-transition": _ = try await store.transition(delivered.id, .deliver, today: today, actor: ops)
                case "adjustment-exceeds-balance":
                    _ = try await store.adjust(AdjustmentRequest(customer: "acme", lot: 1, credits: -8, reason: "x"), today: today, actor: ops)
                default: _ = try await store.transition(Engagement.ID(999), .start, today: today, actor: ops)
                }
            }
            #expect(got?.rawValue == code)
            #expect(try await desk.snapshot() == before)
        }
    }

    @Test("R14 a past quarter's statement is issued once and reads back byte for byte")
    func statementsAreReproducible() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(40, po: "PO-1", on: "2026-01-10")
            _ = try await desk.callOff(15, on: "2026-02-01", plannedEnd: "2026-05-01")
            let quarter = Quarter("2026Q1")!
            let provisional = try await desk.store.statement(of: "acme", quarter: quarter, today: StoreHarness.date("2026-03-31"))
            #expect(provisional.statement.provisional && provisional.issuedOn == nil)
            let issued = try await desk.store.statement(of: "acme", quarter: quarter, today: StoreHarness.date("2026-04-02"))
            #expect(!issued.statement.provisional && issued.issuedOn == StoreHarness.date("2026-04-02"))
            #expect(issued.statement.programs.first { $0.program == "PSC" }?.closingBalance == 25)
            // A late, back-dated order in the closed quarter doesn't change the issued statement.
            try await desk.order(10, po: "PO-LATE", on: "2026-03-20")
            let again = try await desk.store.statement(of: "acme", quarter: quarter, today: StoreHarness.date("2026-07-01"))
            #expect(again.json == issued.json)
            #expect(again.issuedOn == StoreHarness.date("2026-04-02"))
            let notYet = await rejectionCode {
                _ = try await desk.store.statement(of: "acme", quarter: Quarter("2026Q3")!, today: StoreHarness.date("2026-06-30"))
            }
            #expect(notYet == .quarterNotStarted)
        }
    }

    @Test("R14 issuing a statement first expires what its quarter's end left due")
    func statementRecordsDueExpiry() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(10, po: "PO-1", on: "2025-02-15")
            let document = try await desk.store.statement(of: "acme", quarter: Quarter("2026Q1")!, today: StoreHarness.date("2026-04-01"))
            let psc = try #require(document.statement.programs.first { $0.program == "PSC" })
            #expect(psc.openingBalance == 10 && psc.expired == 10 && psc.closingBalance == 0)
            #expect(try await desk.store.verify().isClean)
        }
    }

    @Test("R7 expiry runs once: the second run as of the same day writes nothing")
    func expiryIsIdempotent() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(10, po: "PO-1", on: "2025-01-31")
            try await desk.order(20, po: "PO-2", on: "2025-03-01")
            let asOf = StoreHarness.date("2026-01-31")
            #expect(try await desk.store.expire(asOf: asOf.adding(days: -1), actor: StoreHarness.ops).isEmpty)
            let first = try await desk.store.expire(asOf: asOf, actor: StoreHarness.ops)
            #expect(first.map(\.creditsAvailableDelta) == [-10])
            #expect(try await desk.store.expire(asOf: asOf, actor: StoreHarness.ops).isEmpty)
            #expect(try await desk.store.verify().isClean)
        }
    }

    @Test("R13 cancelling after a drawn lot expired returns and expires those credits at once")
    func cancelAfterExpiry() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(10, po: "PO-1", on: "2025-06-01")
            try await desk.order(10, po: "PO-2", on: "2026-01-01")
            let engagement = try await desk.callOff(15, on: "2026-02-01", plannedEnd: "2026-05-31")
            _ = try await desk.store.expire(asOf: StoreHarness.date("2026-06-01"), actor: StoreHarness.ops)
            _ = try await desk.store.transition(engagement.id, .cancel, reason: "project stopped", today: StoreHarness.date("2026-06-10"), actor: StoreHarness.ops)
            let summary = try await desk.store.summary(of: "acme", today: StoreHarness.date("2026-06-10"))
            #expect(summary.lots.map(\.creditsAvailable) == [0, 10])
            #expect(summary.lots.map(\.creditsHeld) == [0, 0])
            #expect(try await desk.store.verify().isClean)
        }
    }

    @Test("R12 fifty concurrent call-offs of 5 against 100 credits: exactly twenty succeed")
    func concurrentCallOffs() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(50, po: "PO-1", on: "2026-01-10")
            try await desk.order(50, po: "PO-2", on: "2026-01-20")
            let outcomes = try await withThrowingTaskGroup(of: RejectionCode?.self) { group in
                for _ in 0..<50 {
                    group.addTask { await rejectionCode { _ = try await desk.callOff(5, on: "2026-02-01", plannedEnd: "2026-06-01") } }
                }
                return try await group.reduce(into: [RejectionCode?]()) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 == nil }.count == 20)
            #expect(outcomes.filter { $0 == .insufficientCredits }.count == 30)
            let report = try await desk.store.verify()
            #expect(report.isClean && report.entriesChecked == 2 + 20)
        }
    }

    @Test("R16 the database refuses to change or delete a ledger entry")
    func ledgerIsAppendOnly() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(10, po: "PO-1", on: "2026-01-10")
            for statement in ["UPDATE ledger_entries SET reason = 'x'", "DELETE FROM ledger_entries"] {
                await #expect(throws: (any Error).self) {
                    try await desk.store.database.write { sql in try await sql.raw(SQLQueryString(statement)).run() }
                }
            }
            #expect(try await desk.store.verify().isClean)
        }
    }

    @Test("R16 verify names the first entry or lot that was changed by hand", arguments: [
        ("UPDATE ledger_entries SET reason = 'edited' WHERE seq = 3", "ledger entry 3: its contents do not match its hash"),
        ("UPDATE ledger_entries SET credits_available_delta = 7, credits_held_delta = 0 WHERE seq = 1", "ledger entry 1: its contents do not match its hash"),
        ("UPDATE ledger_entries SET kind = 'purchase' WHERE seq = 3", "ledger entry 3: a purchase entry can't move"),
        ("DELETE FROM ledger_entries WHERE seq = 2", "ledger entry 3: sequence jumps from 1 to 3"),
        ("DELETE FROM ledger_entries WHERE seq = 5", "the ledger head says entry 5 is last, but the entries end at 4"),
        ("UPDATE lots SET credits_available = 30 WHERE id = 1", "lot 1 shows available 30, held 0; its entries add up to available 20, held 0"),
    ])
    func verifyFindsTampering(tamper: String, finding: String) async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(30, po: "PO-1", on: "2026-01-10")
            try await desk.order(10, po: "PO-2", on: "2026-01-12")
            let engagement = try await desk.callOff(10, on: "2026-01-15", plannedEnd: "2026-03-01")
            _ = try await desk.store.transition(engagement.id, .cancel, today: StoreHarness.date("2026-01-16"), actor: StoreHarness.ops)
            _ = try await desk.store.adjust(AdjustmentRequest(customer: "acme", lot: 1, credits: -10, reason: "duplicate order"), today: StoreHarness.date("2026-01-17"), actor: StoreHarness.ops)
            try await desk.store.database.write { sql in
                // Someone with the database can drop the guard triggers first.
                try await desk.dropAppendOnlyGuards(on: sql)
                try await sql.raw(SQLQueryString(tamper)).run()
            }
            let report = try await desk.store.verify()
            #expect(!report.isClean)
            #expect(report.failure?.contains(finding) == true, "got: \(report.failure ?? "clean")")
        }
    }

    @Test("a database from a newer version of the desk is refused, not migrated backwards")
    func schemaTooNew() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.store.database.write { sql in
                try await sql.raw("INSERT INTO schema_migrations (version, name) VALUES (999, 'from the future')").run()
            }
            do {
                let reopened = try await desk.scratch.reopen()
                await reopened.close()
                Issue.record("a newer schema was accepted")
            } catch let error as StoreError {
                #expect(error.code == .schemaTooNew)
                #expect(error.message.contains("schema version 999"))
            }
        }
    }

    @Test("a read sees one moment: a write committed while it runs is not in its later statements")
    func readsSeeOneSnapshot() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(20, po: "PO-1", on: "2026-01-10")
            let store = desk.store
            let count: @Sendable (any SQLDatabase) async throws -> Int = { sql in
                try await sql.raw("SELECT COUNT(*) AS n FROM ledger_entries").first()!.decode(column: "n", as: Int.self)
            }
            let (first, second) = try await store.database.read { sql in
                let first = try await count(sql)
                _ = try await store.placeOrder(
                    OrderRequest(customer: "acme", program: "PSC", entity: "JN-DE", purchaseOrder: "PO-2",
                                 blocks: [BlockLine(size: 10, count: 1)]),
                    today: StoreHarness.date("2026-01-11"), actor: StoreHarness.ops)
                return (first, try await count(sql))
            }
            #expect(first == 1 && second == 1, "PostgreSQL's READ COMMITTED would show the new entry: \(second)")
            #expect(try await store.database.read(count) == 2)
        }
    }

    @Test("a desk is copied only into an empty one, and the copy verifies with the same chain head")
    func copyNeedsAnEmptyTarget() async throws {
        try await StoreHarness.withDesk { desk in
            try await desk.order(20, po: "PO-1", on: "2026-01-10")
            _ = try await desk.callOff(5, on: "2026-01-11", plannedEnd: "2026-03-01")
            let target = try await ScratchDesk.make(postgresURL: nil)
            do {
                // One row per page, so every table, including those with keys of two and three
                // columns, is read across pages.
                let counts = try await DeskCopy.copy(from: desk.store.database, to: target.database, pageSize: 1)
                #expect(counts["ledger_entries"] == 2 && counts["lots"] == 1 && counts["draws"] == 1)
                for (table, copied) in counts {
                    let query: String = "SELECT COUNT(*) AS n FROM \(table)"
                    let inSource = try await desk.store.database.read { sql in
                        try await sql.raw(SQLQueryString(query)).first()?.decode(column: "n", as: Int.self)
                    }
                    #expect(copied == inSource, "\(table)")
                }
                #expect(counts["list_prices"]! > 1 && counts["programs"]! > 1)
                let source = try await desk.store.verify()
                let copy = try await DeskStore(database: target.database).verify()
                #expect(copy.isClean && copy.headHash == source.headHash)
                let again = await rejectionCode { _ = try await DeskCopy.copy(from: desk.store.database, to: target.database) }
                #expect(again == .alreadyExists)
            } catch {
                await target.discard()
                throw error
            }
            await target.discard()
        }
    }
}
