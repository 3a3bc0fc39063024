@testable import CreditsStore
import Foundation
import Logging
import SQLKit
import Synchronization
import Testing

/// The batch writer when its own transaction statements fail: after a batch is spoiled, the
/// ROLLBACK, or the BEGIN that opens the batch's second run, fails. The faults are put around a
/// real SQLite connection; nothing of the database is imitated.
@Suite("Batch writer: a spoiled batch whose ROLLBACK or second BEGIN fails")
struct BatchWriterTests {
    struct Injected: Error {}
    struct Refused: Error {}

    /// Passes every statement to `base`, except the `occurrence`th one whose text is `failing`,
    /// which throws `Injected` without reaching SQLite.
    struct FaultyDatabase: WrappingSQLDatabase {
        let base: any SQLDatabase
        let failing: String?
        let occurrence: Int
        let seen = Seen()

        final class Seen: Sendable {
            private let count = Mutex(0)
            func next() -> Int { count.withLock { $0 += 1; return $0 } }
        }

        func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
            var serializer = SQLSerializer(database: self)
            query.serialize(to: &serializer)
            if serializer.sql == failing, seen.next() == occurrence { throw Injected() }
            try await base.execute(sql: query, onRow)
        }
    }

    static let yieldsMax = 1_000_000

    /// How each write that failed ended, and the numbers committed.
    struct Outcome: Equatable, Sendable {
        var failures: [Int: String] = [:]
        var committed: [Int] = []
    }

    /// Write 0 holds the writer until writes 1, 2 and 3 wait behind it, so those three share a
    /// batch. Write 2 fails after writing, which spoils that batch. Write 4 comes after.
    static func run(failing: String?, occurrence: Int) async throws -> Outcome {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("batch-writer-\(UUID()).sqlite").path
        let connection = try DirectSQLite(path: path, readOnly: false)
        defer { connection.close() }
        let direct = DirectSQLDatabase(connection: connection, logger: Logger(label: "test"))
        try await direct.raw("CREATE TABLE probe (n INTEGER NOT NULL)").run()
        let sql = FaultyDatabase(base: direct, failing: failing, occurrence: occurrence)
        let writer = BatchWriter(begin: ["BEGIN IMMEDIATE"]) { body in await body(sql) }
        let (released, release) = AsyncStream<Void>.makeStream()
        let (holding, holds) = AsyncStream<Void>.makeStream()

        @Sendable func write(_ n: Int) async -> (Int, String?) {
            do {
                try await writer.submit { sql in
                    try await sql.raw("INSERT INTO probe (n) VALUES (\(bind: n))").run()
                    if n == 0 {
                        holds.yield()
                        for await _ in released { break }
                    }
                    if n == 2 { throw Refused() }
                }
                return (n, nil)
            } catch is Injected {
                return (n, "injected")
            } catch is Refused {
                return (n, "refused")
            } catch {
                return (n, "\(error)")
            }
        }
        var outcome = Outcome()
        await withTaskGroup(of: (Int, String?).self) { group in
            group.addTask { await write(0) }
            for await _ in holding { break }
            for n in 1...3 { group.addTask { await write(n) } }
            // Writes 1 to 3 queue behind write 0 without anything to await, so this yields until
            // they have; the bound turns a writer that never queues them into a failure, not a hang.
            var yields = 0
            while writer.waiting < 3, yields < Self.yieldsMax {
                await Task.yield()
                yields += 1
            }
            #expect(writer.waiting == 3, "writes 1 to 3 did not queue within \(Self.yieldsMax) yields")
            release.yield()
            for await (n, failure) in group { if let failure { outcome.failures[n] = failure } }
        }
        if let failure = await write(4).1 { outcome.failures[4] = failure }
        outcome.committed = try await direct.raw("SELECT n FROM probe ORDER BY n").all().map { try $0.decode(column: "n", as: Int.self) }
        return outcome
    }

    struct Case: Sendable, CustomTestStringConvertible {
        let failing: String?
        let occurrence: Int
        let expected: Outcome
        var testDescription: String { failing.map { "\($0) number \(occurrence) fails" } ?? "no fault" }
    }

    static let cases = [
        // No fault: the spoiled batch runs again without write 2.
        Case(failing: nil, occurrence: 0, expected: Outcome(failures: [2: "refused"], committed: [0, 1, 3, 4])),
        Case(failing: "ROLLBACK", occurrence: 1,
             expected: Outcome(failures: [1: "injected", 2: "injected", 3: "injected"], committed: [0, 4])),
        // BEGIN 1 opened write 0's batch, BEGIN 2 the shared batch, BEGIN 3 would open its second run.
        Case(failing: "BEGIN IMMEDIATE", occurrence: 3,
             expected: Outcome(failures: [1: "injected", 2: "injected", 3: "injected"], committed: [0, 4])),
    ]

    @Test("a failed ROLLBACK or second BEGIN fails the whole batch, commits none of it, and the next write goes through",
          arguments: cases)
    func machineryFails(_ scenario: Case) async throws {
        #expect(try await Self.run(failing: scenario.failing, occurrence: scenario.occurrence) == scenario.expected)
    }
}
