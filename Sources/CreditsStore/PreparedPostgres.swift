import Logging
import NIOCore
import PostgresKit
import SQLKit
import Synchronization

/// Named prepared statements on each pooled PostgreSQL connection, keyed by their SQL text.
///
/// Why: SQLKit sends every statement unnamed (Parse, Describe, Bind, Execute), so PostgreSQL
/// parses and plans it again on every run and the driver reads its descriptions again. A call-off
/// is about a dozen statements run one after another under the writers' lock, so that repeated
/// work is paid serially by every write (docs/PERFORMANCE.md). A statement is prepared the second
/// time a connection sees it, so one-off statements (migrations, copies) never fill the cache.
///
/// Safety: a connection is used by one task at a time (the pool's lease), so one connection's
/// statements are never prepared twice at once; the lock only guards the shared dictionary.
final class PostgresStatements: Sendable {
    /// A statement's text and the types of its binds: the same text bound with a null where it
    /// had a string is prepared apart, since a parameter's type is fixed when it is prepared.
    struct Key: Hashable, Sendable {
        let sql: String
        let types: [BindType]
    }

    enum BindType: Hashable, Sendable {
        case bigint, text, null

        var cast: String? {
            switch self {
            case .bigint: "BIGINT"
            case .text: "TEXT"
            case .null: nil
            }
        }
    }

    private struct OnConnection {
        let connection: PostgresConnection
        var prepared: [Key: PreparedQuery] = [:]
        var seen: [Key: Int] = [:]

        enum Lookup { case prepared(PreparedQuery), prepare, unnamed }

        /// Counts a sighting of `key`: prepared already, to prepare now (its second), or unnamed.
        mutating func look(up key: Key) -> Lookup {
            if let statement = prepared[key] { return .prepared(statement) }
            let sightings = (seen[key] ?? 0) + 1
            if seen.count < PostgresStatements.seenPerConnectionMax { seen[key] = sightings }
            return sightings >= 2 && prepared.count < PostgresStatements.preparedPerConnectionMax ? .prepare : .unnamed
        }
    }

    private let connections = Mutex<[PostgresConnection.ID: OnConnection]>([:])
    /// Per connection: enough for every statement the desk runs, bounded so that statements
    /// whose text varies (lists of binds) can't grow it without end.
    static let preparedPerConnectionMax = 200
    static let seenPerConnectionMax = 1_000

    /// SQLKit's view of `connection`, running statements through this cache.
    func sql(on connection: PostgresConnection) -> any SQLDatabase {
        PreparedPostgresDatabase(connection: connection, statements: self)
    }

    /// The prepared form of `key` on `connection`, or nil if it should run unnamed.
    func prepared(_ key: Key, on connection: PostgresConnection) async throws -> PreparedQuery? {
        guard Self.isPreparable(key.sql) else { return nil }
        let lookup = connections.withLock { connections in
            if connections[connection.id] == nil {
                // Connections the pool has closed are forgotten when a new one arrives.
                connections = connections.filter { !$0.value.connection.isClosed }
                connections[connection.id] = OnConnection(connection: connection)
            }
            return connections[connection.id]!.look(up: key)
        }
        switch lookup {
        case .prepared(let statement): return statement
        case .unnamed: return nil
        case .prepare:
            let statement = try await connection.prepare(query: Self.typed(key.sql, key.types)).get()
            connections.withLock { $0[connection.id]?.prepared[key] = statement }
            return statement
        }
    }

    /// Statements whose plan is worth keeping; never transaction control or schema changes.
    static func isPreparable(_ sql: String) -> Bool {
        sql.hasPrefix("SELECT") || sql.hasPrefix("INSERT") || sql.hasPrefix("UPDATE") || sql.hasPrefix("DELETE")
            || sql.hasPrefix("WITH")
    }

    /// `sql` with each placeholder cast to its bind's type (`$2` becomes `$2::BIGINT`). The
    /// unnamed path declares each parameter's type from its bind; a statement prepared without
    /// them gets types PostgreSQL infers from their use, and an INTEGER column would then expect
    /// four bytes where eight are sent. Quoted text and names are copied as they are.
    static func typed(_ sql: String, _ types: [BindType]) -> String {
        let characters = Array(sql)
        var typed = ""
        var quote: Character?
        var index = 0
        while index < characters.count {
            let character = characters[index]
            index += 1
            typed.append(character)
            if let open = quote {
                if character == open { quote = nil }
            } else if character == "'" || character == "\"" {
                quote = character
            } else if character == "$" {
                let digits = characters[index...].prefix { $0.isASCII && $0.isNumber }
                guard let position = Int(String(digits)), position >= 1, position <= types.count else { continue }
                typed += String(digits)
                index += digits.count
                if let cast = types[position - 1].cast { typed += "::\(cast)" }
            }
        }
        return typed
    }

    /// A bound value in PostgreSQL's binary form and its type, as the unnamed path would send it:
    /// BIGINT for integers, TEXT for strings (every column of the desk is one or the other). Nil
    /// for a value of another type: that statement then runs unnamed.
    static func data(_ bind: Any) -> (PostgresData, BindType)? {
        switch bind {
        case let value as String: (PostgresData(string: value), .text)
        case let value as Int: (PostgresData(int64: Int64(value)), .bigint)
        case let value as Int64: (PostgresData(int64: value), .bigint)
        case let optional as any DirectSQLiteOptional:
            optional.wrapped.map(data) ?? (PostgresData(type: .null), .null)
        default: nil
        }
    }
}

/// A `PostgresConnection` whose statements run prepared where they can (`PostgresStatements`).
struct PreparedPostgresDatabase: SQLDatabase {
    let connection: PostgresConnection
    let statements: PostgresStatements

    var logger: Logger { connection.logger }
    var eventLoop: any EventLoop { connection.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { nil }
    var dialect: any SQLDialect { PostgresDialect() }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        let binds = serializer.binds.compactMap(PostgresStatements.data)
        guard binds.count == serializer.binds.count,
              let prepared = try await statements.prepared(.init(sql: serializer.sql, types: binds.map(\.1)), on: connection)
        else {
            return try await connection.sql().execute(sql: query, onRow)
        }
        try await prepared.execute(binds.map(\.0)) { onRow(PreparedPostgresRow($0)) }.get()
    }
}

/// A row of a prepared statement, read as binary. PostgresNIO asks for every result column in
/// binary, but the cells of a statement prepared by name keep the text format its description
/// came with; read as text, an integer fails to decode.
struct PreparedPostgresRow: SQLRow {
    let cells: [PostgresCell]

    init(_ row: PostgresRow) {
        cells = row.map {
            PostgresCell(bytes: $0.bytes, dataType: $0.dataType, format: .binary, columnName: $0.columnName, columnIndex: $0.columnIndex)
        }
    }

    var allColumns: [String] { cells.map(\.columnName) }

    func contains(column: String) -> Bool { cells.contains { $0.columnName == column } }

    func decodeNil(column: String) throws -> Bool { cells.first { $0.columnName == column }?.bytes == nil }

    func decode<D: Decodable>(column: String, as type: D.Type) throws -> D {
        guard let cell = cells.first(where: { $0.columnName == column }) else {
            throw DecodingError.keyNotFound(ColumnKey(stringValue: column), .init(codingPath: [], debugDescription: "no column \(column)"))
        }
        guard let decodable = D.self as? any PostgresDecodable.Type else {
            throw DecodingError.typeMismatch(D.self, .init(codingPath: [], debugDescription: "column \(column) can't be read as \(D.self)"))
        }
        return try Self.decode(decodable, from: cell) as! D
    }

    private static func decode<Value: PostgresDecodable>(_ type: Value.Type, from cell: PostgresCell) throws -> Value {
        try cell.decode(Value.self)
    }
}
