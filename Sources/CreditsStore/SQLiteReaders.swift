import Foundation
import Logging
import SQLKit
import SQLiteKit
import Synchronization

/// Read-only connections beside the writer. In WAL mode a reader sees the last committed state
/// and neither waits for the writer nor holds it up, so reads run in parallel with writes and
/// with each other. Opened after migrations (`open()`), one per core.
final class SQLiteReaders: Sendable {
    private let path: String
    private let logger: Logger
    private let connections = Mutex<[(DirectSQLite, AsyncGate)]>([])
    private let next = Atomic<UInt>(0)

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    var isOpen: Bool { connections.withLock { !$0.isEmpty } }

    func open(count: Int) async throws {
        var opened: [(DirectSQLite, AsyncGate)] = []
        for _ in 0..<count {
            let connection = try DirectSQLite(path: path, readOnly: false)
            for pragma in ["PRAGMA query_only=ON", "PRAGMA busy_timeout=10000"] {
                try await DirectSQLDatabase(connection: connection, logger: logger).raw(SQLQueryString(pragma)).run()
            }
            opened.append((connection, AsyncGate()))
        }
        connections.withLock { $0 = opened }
    }

    /// Runs `body` on the next reader, in a transaction opened by `begin` (none if nil).
    func read<T: Sendable>(begin: [String]?, _ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        let all = connections.withLock { $0 }
        let (connection, gate) = all[Int(next.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(all.count))]
        try await gate.enter()
        do {
            let result = try await DeskDatabase.inTransaction(DirectSQLDatabase(connection: connection, logger: logger), begin: begin, body)
            gate.leave()
            return result
        } catch {
            gate.leave()
            throw error
        }
    }

    func close() async {
        let all = connections.withLock { connections in
            defer { connections = [] }
            return connections
        }
        for (connection, gate) in all {
            try? await gate.enter(bounded: false)
            connection.close()
            gate.leave()
        }
    }
}
