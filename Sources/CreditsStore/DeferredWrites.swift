import CreditsCore
import Foundation
import Logging
import NIOCore
import PostgresKit
import SQLKit
import Synchronization

/// A database that runs statements its own way (its async `execute`) on `base`, and is `base` in
/// all else.
protocol WrappingSQLDatabase: SQLDatabase {
    var base: any SQLDatabase { get }
}

extension WrappingSQLDatabase {
    var logger: Logger { base.logger }
    var eventLoop: any EventLoop { base.eventLoop }
    var version: (any SQLDatabaseReportedVersion)? { base.version }
    var dialect: any SQLDialect { base.dialect }

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) -> EventLoopFuture<Void> {
        eventLoop.makeFutureWithTask { try await self.execute(sql: query, onRow) }
    }
}

/// A write transaction's view of the database that holds back the writes nothing later in the
/// operation reads (ledger entries, the engagement and its draws, the chain head of a lone write,
/// the idempotency key) and the lots' moves, and sends them together: at the end of the operation
/// (`DeskDatabase.write`), or before any other statement runs through it, so a statement that
/// reads what was held back still sees it. Holding back can make an operation cheaper, never wrong.
///
/// Why: on PostgreSQL every statement is a round trip, and PostgresNIO sends one at a time. There
/// the held writes go as one statement, each in its WITH clause, with the lots' updates returning
/// the rows the projection check needs: a keyed call-off's five writes (engagement, draws, entry,
/// lot, key) are one round trip. SQLite can't write inside a WITH and has no round trips to
/// save: it runs them one after the other.
struct DeferringDatabase: WrappingSQLDatabase {
    let base: any SQLDatabase
    let pending = PendingWrites()

    func execute(sql query: any SQLExpression, _ onRow: @escaping @Sendable (any SQLRow) -> Void) async throws {
        try await send()
        let memory = BatchMemory.current
        if !changedTransaction || memory?.readAheadIsGood == true, !isRead(query) {
            pending.noteChange()
            // Whatever this statement changes, what the batch read ahead may no longer be so.
            memory?.forgetReadAhead()
        }
        do {
            try await base.execute(sql: query, onRow)
        } catch {
            pending.noteChange()
            throw error
        }
    }

    /// Whether anything run through this view may have left a trace in the transaction: a write
    /// was sent, a statement other than a SELECT ran, or a statement failed (which aborts a
    /// PostgreSQL transaction). A write that fails with this still false can be dropped alone,
    /// without rolling anything back (`BatchWriter`).
    var changedTransaction: Bool { pending.changed }

    /// A SELECT changes nothing: the desk's reads call no function with effects.
    private func isRead(_ query: any SQLExpression) -> Bool {
        var serializer = SQLSerializer(database: self)
        query.serialize(to: &serializer)
        return serializer.sql.hasPrefix("SELECT")
    }

    /// Runs `body` on a deferring view of `sql` (the one it is, if it is one already) and sends
    /// what is held when `body` returns.
    static func within<T>(_ sql: any SQLDatabase, _ body: (DeferringDatabase) async throws -> T) async throws -> T {
        if let deferring = sql as? DeferringDatabase { return try await body(deferring) }
        let deferring = DeferringDatabase(base: sql)
        let result = try await body(deferring)
        try await deferring.send()
        return result
    }

    /// Holds `write`, a statement that returns no rows, until the next send. Past a bound the
    /// held writes go at once, so one statement never grows without limit (an expiry run over
    /// every customer holds an entry per lot).
    func later(_ write: SQLQueryString) async throws {
        if pending.hold(write) { try await send(checking: false) }
    }

    /// Holds a move of `lot` by the deltas of one entry; moves of the same lot add up.
    func later(move lot: Lot.ID, available: Int, held: Int) async throws {
        if pending.hold(move: lot, available: available, held: held) { try await send(checking: false) }
    }

    /// The lots as the core decided them, once every move held so far has been applied.
    func expect(_ lots: [Lot]) {
        pending.expect(lots)
    }

    /// Sends what is held; with `checking`, then checks every lot expected so far against what
    /// the database holds (TIGER_STYLE: check a property where it is written). A send inside an
    /// append (past the bound) doesn't check, since that append's expectations aren't in yet.
    func send(checking: Bool = true) async throws {
        let held = pending.take()
        var stored = held.stored
        if !held.writes.isEmpty || !held.moves.isEmpty {
            pending.noteChange()
            for row in try await Self.run(held.writes, held.moves, on: base) {
                let lot = try Rows.lot(row)
                stored[lot.id] = lot
            }
        }
        if checking {
            try await Ledger.checkProjection(held.expected.values, stored: stored, on: base)
        } else {
            pending.keep(stored: stored, expected: held.expected)
        }
    }

    /// Runs the writes, then the lots' updates, and gives back the updated lots' rows.
    private static func run(_ writes: [SQLQueryString], _ moves: [PendingWrites.Move], on sql: any SQLDatabase) async throws -> [any SQLRow] {
        let updates: [SQLQueryString] = moves.map { move in
            """
            UPDATE lots SET credits_available = credits_available + \(bind: move.available),
                credits_held = credits_held + \(bind: move.held)
            WHERE id = \(bind: move.lot.rawValue) RETURNING *
            """
        }
        guard sql.dialect.name == PostgresDialect().name else {
            for write in writes { try await sql.raw(write).run() }
            var rows: [any SQLRow] = []
            for update in updates { rows += try await sql.raw(update).all() }
            return rows
        }
        return try await sql.raw(oneStatement(writes, updates)).all()
    }

    /// PostgreSQL: the writes, then the updates but the last, in the WITH clause; the last update
    /// (or, with several, the union of their rows; with none, the last write) is the statement.
    /// Each lot is updated once: PostgreSQL doesn't define which of two updates of one row in a
    /// statement wins, which is why the moves of a lot are added up while held.
    static func oneStatement(_ writes: [SQLQueryString], _ updates: [SQLQueryString]) -> SQLQueryString {
        var clauses = writes
        let main: SQLQueryString
        switch updates.count {
        case 0:
            main = clauses.removeLast()
        case 1:
            main = updates[0]
        default:
            let first = clauses.count
            clauses += updates
            main = SQLQueryString((first..<clauses.count).map { "SELECT * FROM w\($0)" }.joined(separator: " UNION ALL "))
        }
        guard !clauses.isEmpty else { return main }
        let with = clauses.enumerated().map { index, clause -> SQLQueryString in "\(unsafeRaw: "w\(index)") AS (\(clause))" }
        return "WITH " + with.joined(separator: ", ") + " " + main
    }
}

/// What a `DeferringDatabase` holds until its next send.
final class PendingWrites: Sendable {
    struct Move: Sendable {
        let lot: Lot.ID
        var available: Int
        var held: Int
    }

    struct Held: Sendable {
        var writes: [SQLQueryString] = []
        /// One per lot, in the order the lots were first moved.
        var moves: [Move] = []
        /// The lots as the core decided them (the last decision per lot), not yet checked.
        var expected: [Lot.ID: Lot] = [:]
        /// The lots as sent updates returned them, kept for the check when a send didn't check.
        var stored: [Lot.ID: Lot] = [:]
    }

    /// Held writes and moved lots past which a send goes at once: a statement of at most about
    /// 32 × 14 + 32 × 3 parameters.
    static let heldMax = 32

    private let state = Mutex(Held())
    private let changedFlag = Atomic(false)

    var changed: Bool { changedFlag.load(ordering: .relaxed) }

    func noteChange() {
        changedFlag.store(true, ordering: .relaxed)
    }

    /// Holds a write; true when the bound is reached and the held writes should go now.
    func hold(_ write: SQLQueryString) -> Bool {
        state.withLock { held in
            held.writes.append(write)
            return held.writes.count >= Self.heldMax
        }
    }

    func hold(move lot: Lot.ID, available: Int, held moved: Int) -> Bool {
        state.withLock { held in
            if let index = held.moves.firstIndex(where: { $0.lot == lot }) {
                held.moves[index].available += available
                held.moves[index].held += moved
            } else {
                held.moves.append(Move(lot: lot, available: available, held: moved))
            }
            return held.moves.count >= Self.heldMax
        }
    }

    func expect(_ lots: [Lot]) {
        state.withLock { held in
            for lot in lots { held.expected[lot.id] = lot }
        }
    }

    func take() -> Held {
        state.withLock { held in
            defer { held = Held() }
            return held
        }
    }

    func keep(stored: [Lot.ID: Lot], expected: [Lot.ID: Lot]) {
        state.withLock { held in
            held.stored.merge(stored) { _, new in new }
            held.expected.merge(expected) { _, new in new }
        }
    }
}

extension SQLDatabase {
    /// Runs `write` now, or holds it until the operation's writes are sent together where this
    /// is a `DeferringDatabase`. Only for a write that nothing later in the operation reads
    /// before the send (a statement run through the same view sends first, so that one is safe).
    func later(_ write: SQLQueryString) async throws {
        if let deferring = self as? DeferringDatabase {
            try await deferring.later(write)
        } else {
            try await raw(write).run()
        }
    }
}
