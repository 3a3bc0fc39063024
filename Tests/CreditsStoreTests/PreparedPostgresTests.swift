@testable import CreditsStore
import NIOCore
import PostgresNIO
import Testing

@Suite("PostgreSQL prepared statements: placeholders typed by their binds")
struct PreparedPostgresTests {
    @Test("each placeholder gets its bind's type; a null's is left to PostgreSQL; quoted text and names are kept", arguments: [
        ("SELECT * FROM lots WHERE id = $1", [.bigint], "SELECT * FROM lots WHERE id = $1::BIGINT"),
        ("UPDATE t SET a = $1, b = $2 WHERE c = $3", [.text, .null, .bigint], "UPDATE t SET a = $1::TEXT, b = $2 WHERE c = $3::BIGINT"),
        // $10 is one placeholder, not $1 followed by a 0.
        ("VALUES ($1, $10)", Array(repeating: .bigint, count: 10), "VALUES ($1::BIGINT, $10::BIGINT)"),
        ("SELECT '$1', 'it''s $1', \"$1\" FROM t WHERE x = $1", [.text], "SELECT '$1', 'it''s $1', \"$1\" FROM t WHERE x = $1::TEXT"),
        // Not placeholders of this statement: left as they are.
        ("SELECT $0, $2, $ FROM t WHERE x = $1", [.text], "SELECT $0, $2, $ FROM t WHERE x = $1::TEXT"),
        ("SELECT $1", [], "SELECT $1"),
    ] as [(String, [PostgresStatements.BindType], String)])
    func typedPlaceholders(sql: String, types: [PostgresStatements.BindType], typed: String) {
        #expect(PostgresStatements.typed(sql, types) == typed)
    }

    @Test("only reads and writes of rows are prepared; transaction control and schema changes run unnamed", arguments: [
        ("SELECT 1", true), ("INSERT INTO t VALUES ($1)", true), ("UPDATE t SET a = 1", true), ("DELETE FROM t", true),
        ("WITH x AS (SELECT 1) SELECT * FROM x", true), ("BEGIN", false), ("COMMIT", false), ("SAVEPOINT batch_job", false),
        ("CREATE TABLE t (a BIGINT)", false), ("ALTER TABLE t ADD b TEXT", false),
    ])
    func preparable(sql: String, preparable: Bool) {
        #expect(PostgresStatements.isPreparable(sql) == preparable)
    }
}

@Suite("PostgreSQL errors as the desk reports them")
struct PostgresErrorTests {
    /// The prepared-statement path reports in PostgresNIO's older error type: a connection lost
    /// there must be "unavailable" (503, retry) as on the unnamed path, not a 500.
    @Test("a lost connection, a reset socket or a garbled answer is unavailable")
    func legacyErrors() async throws {
        let scratch = try await ScratchDesk.make(postgresURL: nil)
        let errors: [any Error] = [
            PostgresError.connectionClosed, PostgresError.protocol("unexpected message"),
            IOError(errnoCode: ECONNRESET, reason: "read(descriptor:pointer:size:)"), ChannelError.ioOnClosedChannel,
        ]
        for error in errors {
            let translated = scratch.database.translate(error)
            #expect((translated as? StoreError)?.code == .unavailable, "\(error)")
        }
        await scratch.discard()
    }

    @Test("SQLSTATE classes 08, 57P and 53 mean the server can't serve now; others are the statement's", arguments: [
        ("08006", true), ("57P01", true), ("53300", true), ("23505", false), ("42P01", false), ("57014", false),
    ])
    func unavailableStates(state: String, unavailable: Bool) {
        #expect(DeskDatabase.meansUnavailable(sqlState: state) == unavailable)
    }
}
