import CreditsCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit

/// Infrastructure errors: what went wrong, and what to do about it (as opposed to a `Rejection`,
/// which is the rules saying no).
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case cannotOpen = "cannot-open"
        case schemaTooNew = "schema-too-new"
        case corruptRow = "corrupt-row"
        case unavailable = "unavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}

/// Waiters for one resource, served first come first served. SQLite allows one writer at a time,
/// and an actor alone doesn't give that: it lets another call in at every `await`.
actor AsyncGate {
    private var busy = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func enter() async {
        if !busy {
            busy = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    func leave() {
        if waiters.isEmpty {
            busy = false
        } else {
            waiters.removeFirst().resume()
        }
    }
}

/// Settings of a PostgreSQL desk, with defaults that suit a few server processes.
public struct PostgresSettings: Sendable {
    public var poolSizeMax = 10
    public var connectTimeoutSeconds = 5
    public var statementTimeoutMilliseconds = 15_000
    /// A schema to use instead of `public` (the tests give each desk its own).
    public var schema: String?

    public init() {}
}

/// The desk's database: an embedded SQLite file, or a PostgreSQL server shared by several
/// `credits serve` processes. Every operation runs in one transaction on one connection.
///
/// Writers are serialised on both engines: SQLite by its one write lock (`BEGIN IMMEDIATE`) and one
/// connection per process (STACK.md trap 3), with concurrent writes committed together
/// (`BatchWriter`); PostgreSQL by a transaction-scoped advisory lock taken
/// first in every write. The ledger's hash chain needs one order of entries anyway, and one writer
/// at a time is what makes a double spend impossible across processes. `synchronous=FULL` (SQLite)
/// and PostgreSQL's default `synchronous_commit=on` make a commit durable before it returns.
public final class DeskDatabase: Sendable {
    enum Engine: Sendable {
        /// The writer connection (also used for reads while readers are busy), and readers.
        case sqlite(DirectSQLite, AsyncGate, BatchWriter, SQLiteReaders)
        case postgres(PostgresClient, Task<Void, Never>, DatabaseHealth)
    }

    /// Where the desk lives, safe to print: a file path, or a URL without its password.
    public let path: String
    let engine: Engine
    let logger: Logger

    public var engineName: String {
        switch engine {
        case .sqlite: "sqlite"
        case .postgres: "postgresql"
        }
    }

    init(path: String, engine: Engine, logger: Logger) {
        self.path = path
        self.engine = engine
        self.logger = logger
    }

    static func isPostgres(_ location: String) -> Bool {
        location.hasPrefix("postgres://") || location.hasPrefix("postgresql://")
    }

    /// Opens (creating if needed) the desk at `location` — a SQLite file path, or a
    /// `postgres://` URL — and applies pending migrations.
    public static func open(
        path location: String, postgres settings: PostgresSettings = PostgresSettings(),
        logger: Logger = Logger(label: "credits.store")
    ) async throws -> DeskDatabase {
        let database = isPostgres(location)
            ? try await openPostgres(location, settings: settings, logger: logger)
            : try await openSQLite(location, logger: logger)
        do {
            try await Migrations.apply(to: database)
            if case .sqlite(_, _, _, let readers) = database.engine {
                try await readers.open(count: max(2, ProcessInfo.processInfo.activeProcessorCount))
            }
        } catch {
            await database.close()
            throw database.translate(error)
        }
        return database
    }

    static func openSQLite(_ path: String, logger: Logger) async throws -> DeskDatabase {
        let connection: DirectSQLite
        do {
            connection = try DirectSQLite(path: path, readOnly: false)
        } catch {
            throw StoreError(.cannotOpen, "can't open the SQLite database at \(path) (\(error)); check the path and that its folder is writable")
        }
        let sql = DirectSQLDatabase(connection: connection, logger: logger)
        let gate = AsyncGate()
        let writer = BatchWriter(gate: gate) { sql }
        let readers = SQLiteReaders(path: path, logger: logger)
        let database = DeskDatabase(path: path, engine: .sqlite(connection, gate, writer, readers), logger: logger)
        do {
            // WAL lets readers in other processes read while one writes; busy_timeout makes a
            // second process wait for the write lock instead of failing at once.
            // temp_store=MEMORY: savepoint journals stay in memory instead of a temporary file per batch.
            for pragma in [
                "PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000",
                "PRAGMA temp_store=MEMORY",
            ] {
                try await sql.raw(SQLQueryString(pragma)).run()
            }
        } catch {
            connection.close()
            throw StoreError(.cannotOpen, "\(path) is not a usable SQLite database (\(error))")
        }
        return database
    }

    public func close() async {
        switch engine {
        case .sqlite(let connection, let gate, _, let readers):
            await readers.close()
            await gate.enter()
            connection.close()
            await gate.leave()
        case .postgres(_, let runner, _):
            // The pool stops when its run task is cancelled; don't wait on it for ever if a lease
            // is stuck on a dead server.
            runner.cancel()
            let stopped = LeaseFlag()
            Task { await runner.value; stopped.set() }
            for _ in 0..<20 where !stopped.isSet { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it.
    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(writing: true, body)
    }

    /// A write for maintenance commands (`migrate-data`) that may run for minutes: the answer
    /// deadline that protects requests from a dead PostgreSQL server would cut it short.
    public func longWrite<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        guard case .postgres(let client, _, _) = engine else { return try await write(body) }
        do {
            return try await client.withConnection { connection in
                try await Self.inTransaction(connection.sql(), begin: ["BEGIN", "SELECT pg_advisory_xact_lock(\(Self.writerLockKey))"], body)
            }
        } catch {
            throw translate(error)
        }
    }

    /// Runs `body` in one read transaction, so everything it reads is of one moment.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(writing: false, body)
    }

    func transaction<T: Sendable>(writing: Bool, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        do {
            switch engine {
            case .sqlite(_, _, let writer, _) where writing:
                return try await writer.submit(body)
            case .sqlite(_, _, _, let readers) where readers.isOpen:
                return try await readers.read(body)
            case .sqlite(let connection, let gate, _, _):
                await gate.enter()
                do {
                    let result = try await Self.inTransaction(DirectSQLDatabase(connection: connection, logger: logger), begin: ["BEGIN"], body)
                    await gate.leave()
                    return result
                } catch {
                    await gate.leave()
                    throw error
                }
            case .postgres(let client, _, let health):
                return try await Self.withLeaseDeadline(seconds: leaseTimeoutSeconds, health: health) { leased in
                    try await client.withConnection { connection in
                        try leased()
                        // One advisory lock for all writers, held until commit (see the type's comment).
                        let begin = writing ? ["BEGIN", "SELECT pg_advisory_xact_lock(\(Self.writerLockKey))"] : ["BEGIN READ ONLY"]
                        return try await Self.inTransaction(connection.sql(), begin: begin, body)
                    }
                }
            }
        } catch {
            throw translate(error)
        }
    }

    static let writerLockKey = 7_353_535

    static func inTransaction<T: Sendable>(
        _ sql: any SQLDatabase, begin: [String], _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        for statement in begin { try await sql.raw(SQLQueryString(statement)).run() }
        do {
            let result = try await body(sql)
            try await sql.raw("COMMIT").run()
            return result
        } catch {
            try? await sql.raw("ROLLBACK").run()
            throw error
        }
    }
}
