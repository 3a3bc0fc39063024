@testable import CreditsStore
import Foundation
import Testing

@Suite("the direct SQLite connection")
struct DirectSQLiteTests {
    static func scratch() throws -> DirectSQLite {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("direct-\(UUID()).sqlite").path
        let connection = try DirectSQLite(path: path, readOnly: false)
        for statement in [
            "CREATE TABLE lots (id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, program_id TEXT NOT NULL, expires_on TEXT NOT NULL)",
            "CREATE INDEX lots_by_customer ON lots (customer_id, program_id, expires_on)",
            "INSERT INTO lots VALUES (1, 'a', 'PSC', '2027-01-01'), (2, 'b', 'PSC', '2027-02-01'), (3, 'a', 'PSC', '2026-12-01')",
        ] { try connection.execute(statement, []) { _ in } }
        return connection
    }

    /// Clearing the bindings between runs made SQLite re-prepare such a statement every time,
    /// which cost a call-off about 3% of its CPU and made the cache worthless for these reads.
    @Test("a cached statement with a bound WHERE and an ORDER BY is not re-prepared when new values are bound")
    func stablePlans() throws {
        let connection = try Self.scratch()
        let sql = "SELECT id FROM lots WHERE customer_id = ?1 AND program_id = ?2 ORDER BY id LIMIT 1000"
        var seen: [[Int64]] = []
        for customer in ["a", "b", "a", "c"] {
            var ids: [Int64] = []
            try connection.execute(sql, [.text(customer), .text("PSC")]) { row in
                if case .integer(let id) = row.values[0] { ids.append(id) }
            }
            seen.append(ids)
        }
        #expect(seen == [[1, 3], [2], [1, 3], []])
        #expect(connection.reprepares(of: sql) == 0)
    }

    @Test("binds see through optionals, and a value of an unknown type is refused")
    func binds() throws {
        let some: String? = "x"
        let none: Int? = nil
        let nested: Int?? = .some(7)
        #expect(try DirectSQLiteValue(bind: some as Any) == .text("x"))
        #expect(try DirectSQLiteValue(bind: none as Any) == .null)
        #expect(try DirectSQLiteValue(bind: nested as Any) == .integer(7))
        #expect(try DirectSQLiteValue(bind: true) == .integer(1))
        #expect(throws: DirectSQLiteError.self) { try DirectSQLiteValue(bind: [1, 2]) }
    }

    @Test("a schema change re-reads a cached statement's columns")
    func columnsAfterSchemaChange() throws {
        let connection = try Self.scratch()
        var columns: [String] = []
        try connection.execute("SELECT * FROM lots WHERE id = ?1", [.integer(1)]) { columns = $0.columns }
        #expect(columns == ["id", "customer_id", "program_id", "expires_on"])
        try connection.execute("ALTER TABLE lots ADD COLUMN note TEXT", []) { _ in }
        try connection.execute("SELECT * FROM lots WHERE id = ?1", [.integer(1)]) { columns = $0.columns }
        #expect(columns == ["id", "customer_id", "program_id", "expires_on", "note"])
    }

    @Test("past its bound the statement cache starts again, and every statement still answers right")
    func cacheEviction() throws {
        let connection = try Self.scratch()
        let count = DirectSQLite.cachedStatementsMax + 44
        for round in 0..<2 {
            for number in 0..<count {
                var answer: DirectSQLiteValue?
                try connection.execute("SELECT \(number) + ?1 AS n", [.integer(Int64(round))]) { answer = $0.values[0] }
                #expect(answer == .integer(Int64(number + round)))
            }
        }
        // The cache was emptied when full, so the first statements are no longer in it.
        #expect(connection.reprepares(of: "SELECT 0 + ?1 AS n") == nil)
        #expect(connection.reprepares(of: "SELECT \(count - 1) + ?1 AS n") != nil)
    }
}
