import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import Synchronization
import Testing

@Suite("SQLite write lock held by another process")
struct SQLiteLockTests {
    @Test("a write waits for another connection's write lock, then commits after it",
          .enabled(if: ProcessInfo.processInfo.environment["CREDITS_TEST_DATABASE"] == nil, "SQLite's file lock only"))
    func waitsForTheOtherWriter() async throws {
        try await StoreHarness.withDesk { desk in
            // A second desk on the same file stands for another process (a CLI command, say).
            let other = try await DeskDatabase.open(path: desk.store.database.path)
            let otherCommitted = Flag()
            let (holding, holds) = AsyncStream<Void>.makeStream()
            let (released, release) = AsyncStream<Void>.makeStream()
            let holder = Task {
                try await other.write { sql in
                    try await sql.raw("UPDATE settings SET value = value WHERE name = 'fiscal_year_start_month'").run()
                    holds.yield()
                    for await _ in released { break }
                    otherCommitted.set()
                }
            }
            // The other connection holds the write lock from here until it is released.
            for await _ in holding { break }
            let ordering = Task {
                try await desk.store.placeOrder(
                    OrderRequest(customer: "acme", program: "PSC", entity: "JN-DE", purchaseOrder: "PO-WAIT",
                                 blocks: [BlockLine(size: 10, count: 1)]),
                    today: StoreHarness.date("2026-03-15"), actor: StoreHarness.ops)
            }
            release.yield()
            let order = try await ordering.value
            #expect(otherCommitted.isSet, "the order committed after the other writer")
            try await holder.value
            await other.close()
            #expect(order.credits == 10)
            #expect(try await desk.store.verify().isClean)
        }
    }
}

final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
