import CreditsCore
import Foundation
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit
import SQLiteKit
import Synchronization

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
/// and a connection serves one statement at a time.
///
/// Why not an actor: an actor lets another call in at every `await`, and entering one is a hop to
/// its executor and back. A free gate here costs one lock, which matters on every read.
final class AsyncGate: Sendable {
    /// Callers that may wait at once. Past it a caller is told at once that the desk is busy
    /// (503 with Retry-After), rather than the queue and its memory growing without end.
    static let waitersMax = 4_096

    private let state = Mutex<(busy: Bool, waiters: [CheckedContinuation<Void, any Error>])>((false, []))
    private let waitersMax: Int

    init(waitersMax: Int = AsyncGate.waitersMax) {
        self.waitersMax = waitersMax
    }

    /// Waits for the gate. Unbounded only for closing, which must get in whatever is queued.
    func enter(bounded: Bool = true) async throws {
        let entered = state.withLock { state in
            guard !state.busy else { return false }
            state.busy = true
            return true
        }
        if entered { return }
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let admission = state.withLock { state -> QueueAdmission in
                guard state.busy else {
                    state.busy = true
                    return .now
                }
                guard !bounded || state.waiters.count < waitersMax else { return .full }
                state.waiters.append(continuation)
                return .queued
            }
            switch admission {
            case .now, .drain: continuation.resume()
            case .queued: break
            case .full: continuation.resume(throwing: StoreError.busy(waiting: waitersMax))
            }
        }
    }

    /// Hands the gate to the longest waiter, or frees it.
    func leave() {
        let next = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard !state.waiters.isEmpty else {
                state.busy = false
                return nil
            }
            return state.waiters.removeFirst()
        }
        next?.resume()
    }
}

/// What a bounded queue said to one more caller: go ahead, wait your turn, or come back later.
enum QueueAdmission { case now, queued, drain, full }

extension StoreError {
    /// The refusal of a full queue: the client should come back shortly.
    static func busy(waiting: Int) -> StoreError {
        StoreError(.unavailable, "the desk is busy: \(waiting) requests are already waiting; retry in a second")
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
        case postgres(PostgresClient, Task<Void, Never>, DatabaseHealth, BatchWriter, PostgresStatements)
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
    /// Opens the desk at `location` and brings its schema up to date. With `creating` false, a
    /// SQLite file that doesn't exist is an error rather than a new, empty desk: a mistyped path
    /// must not answer "no customers" and exit 0.
    public static func open(
        path location: String, postgres settings: PostgresSettings = PostgresSettings(),
        creating: Bool = true, logger: Logger = Logger(label: "credits.store")
    ) async throws -> DeskDatabase {
        if !creating, !isPostgres(location), !FileManager.default.fileExists(atPath: location) {
            throw StoreError(.cannotOpen, "there is no desk at \(location); check --database, or create one with `credits migrate` or `credits demo`")
        }
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
        let writer = BatchWriter(begin: ["BEGIN IMMEDIATE"]) { body in
            try await gate.enter()
            let results = await body(sql)
            gate.leave()
            return results
        }
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
            try? await gate.enter(bounded: false)
            connection.close()
            gate.leave()
        case .postgres(_, let runner, _, _, _):
            // The pool stops when its run task is cancelled; don't wait on it for ever if a lease
            // is stuck on a dead server.
            runner.cancel()
            let stopped = LeaseFlag()
            Task { await runner.value; stopped.set() }
            for _ in 0..<20 where !stopped.isSet { try? await Task.sleep(for: .milliseconds(100)) }
        }
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it.
    /// The writes that nothing later in `body` reads are held and sent together when it returns
    /// (`DeferringDatabase`): on PostgreSQL, one round trip.
    /// `ahead`: what `body` reads first, which a batch reads for all its writes at once.
    public func write<T: Sendable>(
        readingAhead ahead: ReadAhead = ReadAhead(), _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await transaction(writing: true, readingAhead: ahead) { sql in try await DeferringDatabase.within(sql, body) }
    }

    /// A write for maintenance commands (`migrate-data`) that may run for minutes: the answer
    /// deadline that protects requests from a dead PostgreSQL server would cut it short.
    public func longWrite<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await long(begin: ["BEGIN", "SELECT pg_advisory_xact_lock(\(Self.writerLockKey))"], otherwise: { try await self.write($0) }, body)
    }

    /// A read that may run for minutes (`verify` of a million entries), without the answer deadline.
    public func longRead<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await long(begin: [Self.postgresReadBegin], otherwise: read, body)
    }

    private func long<T: Sendable>(
        begin: [String], otherwise: (@escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T,
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        guard case .postgres(let client, _, _, _, let statements) = engine else { return try await otherwise(body) }
        do {
            return try await client.withConnection { connection in
                try await Self.inTransaction(statements.sql(on: connection), begin: begin, body)
            }
        } catch {
            throw translate(error)
        }
    }

    /// One snapshot for the whole transaction: PostgreSQL's default (READ COMMITTED) takes a new
    /// one per statement, and a read of several statements could mix two moments.
    static let postgresReadBegin = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"

    /// Runs `body` in one read transaction, so everything it reads is of one moment.
    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(writing: false, body)
    }

    /// The rows of one SELECT. A single statement sees one moment by itself on both engines, so
    /// it runs without a transaction around it: two statements fewer, and on PostgreSQL two
    /// round trips fewer, than `read`.
    public func query(_ statement: SQLQueryString) async throws -> [any SQLRow] {
        try await transaction(writing: false, oneStatement: true) { sql in try await sql.raw(statement).all() }
    }

    func transaction<T: Sendable>(
        writing: Bool, oneStatement: Bool = false, readingAhead ahead: ReadAhead = ReadAhead(),
        _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let readBegin = oneStatement ? nil : ["BEGIN"]
        do {
            switch engine {
            case .sqlite(_, _, let writer, _) where writing:
                return try await writer.submit(readingAhead: ahead, body)
            case .sqlite(_, _, _, let readers) where readers.isOpen:
                return try await readers.read(begin: readBegin, body)
            case .sqlite(let connection, let gate, _, _):
                try await gate.enter()
                do {
                    let result = try await Self.inTransaction(DirectSQLDatabase(connection: connection, logger: logger), begin: readBegin, body)
                    gate.leave()
                    return result
                } catch {
                    gate.leave()
                    throw error
                }
            case .postgres(_, _, _, let writer, _) where writing:
                return try await writer.submit(readingAhead: ahead, body)
            case .postgres(let client, _, let health, _, let statements):
                return try await Self.withLeaseDeadline(seconds: leaseTimeoutSeconds, health: health) { leased in
                    try await client.withConnection { connection in
                        try leased()
                        return try await EventLoopTaskExecutor.on(connection.eventLoop) {
                            try await Self.inTransaction(statements.sql(on: connection), begin: oneStatement ? nil : [Self.postgresReadBegin], body)
                        }
                    }
                }
            }
        } catch {
            throw translate(error)
        }
    }

    static let writerLockKey = 7_353_535

    /// Runs `body` between `begin` and COMMIT (ROLLBACK if it throws); with no `begin`, as it is.
    static func inTransaction<T: Sendable>(
        _ sql: any SQLDatabase, begin: [String]?, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        guard let begin else { return try await body(sql) }
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
