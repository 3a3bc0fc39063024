import CreditsCore
import Foundation
import Logging
import NIOCore
import NIOPosix
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

/// The desk's SQLite file: one connection, every write one `BEGIN IMMEDIATE` transaction.
///
/// One connection is the fix for STACK.md trap 3 (writers waiting on the lock starve the
/// thread pool). `synchronous=FULL` makes a commit durable before it returns, so an acknowledged
/// write survives a crash or a power cut.
public final class DeskDatabase: Sendable {
    public let path: String
    private let connection: SQLiteConnection
    private let gate = AsyncGate()
    private let logger: Logger

    private init(path: String, connection: SQLiteConnection, logger: Logger) {
        self.path = path
        self.connection = connection
        self.logger = logger
    }

    /// Opens (creating if needed) the file at `path` and applies pending migrations.
    public static func open(path: String, logger: Logger = Logger(label: "credits.store")) async throws -> DeskDatabase {
        let connection: SQLiteConnection
        do {
            connection = try await SQLiteConnection.open(storage: .file(path: path), logger: logger)
        } catch {
            throw StoreError(.cannotOpen, "can't open the SQLite database at \(path) (\(error)); check the path and that its folder is writable")
        }
        let database = DeskDatabase(path: path, connection: connection, logger: logger)
        do {
            let sql = connection.sql()
            // WAL lets readers in other processes read while one writes; busy_timeout makes a
            // second process wait for the write lock instead of failing at once.
            for pragma in ["PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA foreign_keys=ON", "PRAGMA busy_timeout=10000"] {
                try await sql.raw(SQLQueryString(pragma)).run()
            }
            try await Migrations.apply(to: database)
        } catch {
            try? await connection.close()
            throw error
        }
        return database
    }

    public func close() async {
        await gate.enter()
        try? await connection.close()
        await gate.leave()
    }

    /// Runs `body` in one write transaction: all of it commits, or none of it.
    public func write<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN IMMEDIATE", body)
    }

    /// Runs `body` in one read transaction, so everything it reads is of one moment.
    public func read<T: Sendable>(_ body: @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await transaction(begin: "BEGIN", body)
    }

    private func transaction<T: Sendable>(
        begin: String, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        await gate.enter()
        do {
            let result = try await inTransaction(begin: begin, body)
            await gate.leave()
            return result
        } catch {
            await gate.leave()
            throw error
        }
    }

    private func inTransaction<T: Sendable>(
        begin: String, _ body: @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        let sql = connection.sql()
        try await sql.raw(SQLQueryString(begin)).run()
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
