import Foundation
import Logging
import NIOCore
import NIOPosix
import SQLKit
import SQLiteKit
import Synchronization
import VaporCSQLite

/// A SQLite connection called directly, statement by statement, on the calling thread, with its
/// prepared statements cached.
///
/// Why not SQLiteNIO's connection: it sends every statement to a thread pool and every row back
/// to an event loop, two thread hand-offs each, and prepares each statement anew. A call-off is
/// about fifteen statements, so those hand-offs were most of its cost (docs/PERFORMANCE.md).
/// Statements here take microseconds. Only a write lock held by another process is waited for
/// on the blocking pool; COMMIT's fsync (a fraction of a millisecond here) runs in place.
///
/// Safety: a connection is used by one task at a time (the caller holds its `AsyncGate`), so its
/// handle and statement cache are never touched concurrently; the handle is opened in SQLite's
/// serialized mode as well.
final class DirectSQLite: @unchecked Sendable {
    private var handle: OpaquePointer?
    private var statements: [String: Prepared] = [:]

    /// A cached statement and its result's column names, read once rather than per row.
    private struct Prepared {
        let statement: OpaquePointer
        var columns: [String]
        /// SQLite's count of this statement's re-preparations when `columns` was read: a schema
        /// change re-prepares it, and only then can its columns change.
        var columnsAtReprepare: Int32
    }
    let path: String
    static let cachedStatementsMax = 256

    init(path: String, readOnly: Bool) throws {
        self.path = path
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_FULLMUTEX
        var opened: OpaquePointer?
        let status = sqlite_nio_sqlite3_open_v2(path, &opened, flags, nil)
        guard status == SQLITE_OK, let opened else {
            let message = opened.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "status \(status)"
            sqlite_nio_sqlite3_close(opened)
            throw DirectSQLiteError(message: "can't open \(path): \(message)")
        }
        handle = opened
    }

    deinit { close() }

    func close() {
        for prepared in statements.values { sqlite_nio_sqlite3_finalize(prepared.statement) }
        statements = [:]
        if let handle { sqlite_nio_sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one statement, handing each row to `onRow`.
    func execute(_ sql: String, _ binds: [DirectSQLiteValue], onRow: (DirectSQLiteRow) throws -> Void) throws {
        let cached = try prepared(sql)
        let statement = cached.statement
        // Every parameter is bound on every run, so no value from an earlier run can leak into
        // this one. Not clear_bindings: on a statement whose plan looked at a bound value (any
        // bound WHERE with an ORDER BY, in this SQLite) it forces a re-prepare on the next run.
        precondition(Int32(binds.count) == sqlite_nio_sqlite3_bind_parameter_count(statement),
                     "\(binds.count) values bound to \(sql.prefix(120))")
        defer { sqlite_nio_sqlite3_reset(statement) }
        for (index, value) in binds.enumerated() { try bind(value, at: Int32(index + 1), in: statement) }
        var columns: [String]?
        while true {
            switch sqlite_nio_sqlite3_step(statement) {
            case SQLITE_ROW:
                let names = columns ?? self.columns(of: sql, cached)
                columns = names
                try onRow(DirectSQLiteRow(columns: names, values: (0..<Int32(names.count)).map { column(statement, $0) }))
            case SQLITE_DONE:
                return
            default:
                throw failure(sql)
            }
        }
    }

    /// The result's column names, read again only after SQLite re-prepared the statement.
    private func columns(of sql: String, _ cached: Prepared) -> [String] {
        let reprepares = sqlite_nio_sqlite3_stmt_status(cached.statement, SQLITE_STMTSTATUS_REPREPARE, 0)
        if cached.columnsAtReprepare == reprepares { return cached.columns }
        let names = (0..<sqlite_nio_sqlite3_column_count(cached.statement)).map {
            String(cString: sqlite_nio_sqlite3_column_name(cached.statement, $0))
        }
        statements[sql] = Prepared(statement: cached.statement, columns: names, columnsAtReprepare: reprepares)
        return names
    }

    /// How often SQLite has re-prepared the cached statement `sql` (nil if it isn't cached).
    func reprepares(of sql: String) -> Int32? {
        statements[sql].map { sqlite_nio_sqlite3_stmt_status($0.statement, SQLITE_STMTSTATUS_REPREPARE, 0) }
    }

    /// Runs a statement that takes a lock with no busy wait: false if the lock is taken.
    func tryWithoutWaiting(_ sql: String) -> Bool {
        guard let handle else { return false }
        sqlite_nio_sqlite3_busy_timeout(handle, 0)
        defer { sqlite_nio_sqlite3_busy_timeout(handle, Self.busyTimeoutMilliseconds) }
        do {
            try execute(sql, []) { _ in }
            return true
        } catch {
            return false
        }
    }

    static let busyTimeoutMilliseconds: Int32 = 10_000

    private func prepared(_ sql: String) throws -> Prepared {
        if let cached = statements[sql] { return cached }
        guard let handle else { throw DirectSQLiteError(message: "the connection to \(path) is closed") }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure(sql)
        }
        if statements.count >= Self.cachedStatementsMax {
            for old in statements.values { sqlite_nio_sqlite3_finalize(old.statement) }
            statements = [:]
        }
        let fresh = Prepared(statement: statement, columns: [], columnsAtReprepare: -1)
        statements[sql] = fresh
        return fresh
    }

    private func bind(_ value: DirectSQLiteValue, at index: Int32, in statement: OpaquePointer) throws {
        let status: Int32 = switch value {
        case .integer(let number): sqlite_nio_sqlite3_bind_int64(statement, index, number)
        case .real(let number): sqlite_nio_sqlite3_bind_double(statement, index, number)
        case .text(let text): Self.bindText(text, at: index, in: statement)
        case .null: sqlite_nio_sqlite3_bind_null(statement, index)
        }
        guard status == SQLITE_OK else { throw failure("bind \(index)") }
    }

    /// Binds text with its UTF-8 byte length. NB: a length of -1 would make SQLite stop at the first
    /// NUL byte, so `victim\0x` would be stored and compared as `victim` (hardening H1, M1).
    private static func bindText(_ text: String, at index: Int32, in statement: OpaquePointer) -> Int32 {
        var text = text
        return text.withUTF8 { bytes in
            // An empty buffer may have no base address; SQLite takes "" for a zero-length value.
            guard let base = bytes.baseAddress else { return sqlite_nio_sqlite3_bind_text(statement, index, "", 0, Self.transient) }
            return sqlite_nio_sqlite3_bind_text(statement, index, UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self),
                                                Int32(bytes.count), Self.transient)
        }
    }

    /// SQLITE_TRANSIENT: SQLite copies the text before the call returns.
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

    private func column(_ statement: OpaquePointer, _ index: Int32) -> DirectSQLiteValue {
        switch sqlite_nio_sqlite3_column_type(statement, index) {
        case SQLITE_INTEGER: .integer(sqlite_nio_sqlite3_column_int64(statement, index))
        case SQLITE_FLOAT: .real(sqlite_nio_sqlite3_column_double(statement, index))
        case SQLITE_NULL: .null
        default: .text(Self.columnText(statement, index))
        }
    }

    /// A text column read with its byte length, so a stored NUL byte does not cut the value short.
    private static func columnText(_ statement: OpaquePointer, _ index: Int32) -> String {
        guard let text = sqlite_nio_sqlite3_column_text(statement, index) else { return "" }
        let count = Int(sqlite_nio_sqlite3_column_bytes(statement, index))
        return String(decoding: UnsafeRawBufferPointer(start: text, count: count), as: UTF8.self)
    }

    private func failure(_ sql: String) -> DirectSQLiteError {
        let message = handle.flatMap { sqlite_nio_sqlite3_errmsg($0) }.map { String(cString: $0) } ?? "no connection"
        return DirectSQLiteError(message: "\(message) (in \(sql.prefix(120)))")
    }
}

struct DirectSQLiteError: Error, CustomStringConvertible {
    let message: String
    var description: String { "SQLite: \(message)" }
}

enum DirectSQLiteValue: Sendable, Equatable {
    case integer(Int64), real(Double), text(String), null

    /// A bound value as SQLKit hands it over: the Swift values the store binds.
    init(bind: Any) throws {
        switch bind {
        case let value as String: self = .text(value)
        case let value as Int: self = .integer(Int64(value))
        case let optional as any DirectSQLiteOptional:
            guard let wrapped = optional.wrapped else { self = .null; return }
            self = try DirectSQLiteValue(bind: wrapped)
        case let value as Int64: self = .integer(value)
        case let value as Int32: self = .integer(Int64(value))
        case let value as Substring: self = .text(String(value))
        case let value as Bool: self = .integer(value ? 1 : 0)
        case let value as Double: self = .real(value)
        default: throw DirectSQLiteError(message: "can't bind a \(type(of: bind))")
        }
    }
}

struct DirectSQLiteRow: SQLRow {
    let columns: [String]
    let values: [DirectSQLiteValue]

    var allColumns: [String] { columns }

    func contains(column: String) -> Bool { columns.contains(column) }

    func decodeNil(column: String) throws -> Bool { try value(column) == .null }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        let value = try value(column)
        if let optional = D.self as? any DirectSQLiteOptional.Type {
            if value == .null { return optional.nullValue as! D }
            return try optional.some(decoding: value, column: column) as! D
        }
        return try Self.cast(value, to: D.self, column: column)
    }

    static func cast<D>(_ value: DirectSQLiteValue, to type: D.Type, column: String) throws -> D {
        let result: Any? = switch (value, type) {
        case (.integer(let number), is Int.Type): Int(number)
        case (.integer(let number), is Int64.Type): number
        case (.integer(let number), is Bool.Type): number != 0
        case (.integer(let number), is Double.Type): Double(number)
        case (.real(let number), is Double.Type): number
        case (.text(let text), is String.Type): text
        case (.integer(let number), is String.Type): String(number)
        default: nil
        }
        guard let result = result as? D else {
            throw DecodingError.typeMismatch(D.self, .init(codingPath: [], debugDescription: "column \(column) holds \(value)"))
        }
        return result
    }

    private func value(_ column: String) throws -> DirectSQLiteValue {
        guard let index = columns.firstIndex(of: column) else {
            throw DecodingError.keyNotFound(ColumnKey(stringValue: column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        return values[index]
    }
}

struct ColumnKey: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Lets binds and `decode(column:as: String?.self)` see through an optional.
protocol DirectSQLiteOptional {
    static var nullValue: Self { get }
    static func some(decoding value: DirectSQLiteValue, column: String) throws -> Self
    var wrapped: Any? { get }
}

extension Optional: DirectSQLiteOptional {
    static var nullValue: Self { nil }
    var wrapped: Any? { self.map { $0 } }
    static func some(decoding value: DirectSQLiteValue, column: String) throws -> Self {
        .some(try DirectSQLiteRow.cast(value, to: Wrapped.self, column: column))
    }
}

/// SQLKit's view of a `DirectSQLite` connection.
struct DirectSQLDatabase: SQLDatabase {
    let connection: DirectSQLite
    let logger: Logger
    var eventLoop: any EventLoop { MultiThreadedEventLoopGroup.singleton.any() }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { SQLiteDialect() }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        do {
            try run(query, onRow)
            return eventLoop.makeSucceededVoidFuture()
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        let (sql, binds) = try serialize(query)
        if sql == "BEGIN IMMEDIATE", !connection.tryWithoutWaiting(sql) {
            // Another process holds the write lock: wait for it (busy_timeout) on the blocking
            // pool, not on a Swift concurrency thread.
            let connection = self.connection
            try await NIOThreadPool.singleton.runIfActive { try connection.execute(sql, binds) { onRow($0) } }
        } else if sql != "BEGIN IMMEDIATE" {
            // COMMIT's fsync runs right here too: it costs less than the two thread hand-offs
            // that sending it elsewhere would (docs/PERFORMANCE.md).
            try connection.execute(sql, binds) { onRow($0) }
        }
    }

    private func run(_ query: any SQLExpression, _ onRow: (any SQLRow) -> Void) throws {
        let (sql, binds) = try serialize(query)
        try connection.execute(sql, binds) { onRow($0) }
    }

    private func serialize(_ query: any SQLExpression) throws -> (String, [DirectSQLiteValue]) {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        return (serializer.sql, try serializer.binds.map { try DirectSQLiteValue(bind: $0) })
    }
}
