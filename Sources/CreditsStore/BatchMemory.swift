import CreditsCore
import Foundation
import SQLKit
import Synchronization

/// What a write reads before it decides, told when it is submitted, so that its batch reads it
/// for all its writes in one statement when it opens (`BatchMemory.readAhead`).
public struct ReadAhead: Sendable {
    /// The idempotency key the write looks up first.
    var answerKey: IdempotencyKey?
    /// The customer and program a call-off decides on.
    public var callOff: CallOffTarget?

    public init(callOff: CallOffTarget? = nil) {
        self.callOff = callOff
    }

    init(answerKey: IdempotencyKey?) {
        self.answerKey = answerKey
    }
}

public struct CallOffTarget: Hashable, Sendable {
    public let customer: Customer.ID
    public let program: Program.ID

    public init(customer: Customer.ID, program: Program.ID) {
        self.customer = customer
        self.program = program
    }
}

/// What a call-off decides on: its customer, program, and the customer's lots of that program.
struct CallOffParties: Sendable, Equatable {
    let customer: Customer
    let program: Program
    let lots: [Lot]
}

/// What the writes of one batch carry from one to the next: the chain head, which every append
/// reads and moves; the id counters a write takes its numbers from; and the answers kept under
/// the jobs' idempotency keys. Only writes of this process move them while the batch holds the
/// write lock, so the batch reads them once, keeps them here and stores what moved once, before
/// its COMMIT, rather than reading and updating their rows in every write (on PostgreSQL, a
/// round trip or two each). When a write fails, the memory goes back to what it was before that
/// write, so a rolled-back write gives its numbers back as it does outside a batch.
final class BatchMemory: Sendable {
    @TaskLocal static var current: BatchMemory?

    struct LedgerHead: Sendable, Equatable {
        let seq: Int
        let hash: String
    }

    /// The chain head and the next value of every counter.
    struct Sequences: Sendable, Equatable {
        var ledgerHead: LedgerHead
        var nextIDs: [String: Int]
    }

    /// The sequences as read, and as the batch's writes left them.
    struct SequencesSinceRead: Sendable, Equatable {
        let read: Sequences
        var now: Sequences
    }

    struct State: Sendable, Equatable {
        /// Nil until a write of the batch needed them.
        var sequences: SequencesSinceRead?
        /// The answers kept under the keys the batch's jobs look up (read when the batch opens,
        /// so a job's lookup costs no round trip), and those its writes have kept since.
        var answers: [IdempotencyKey: KnownAnswer] = [:]
        /// The call-offs' parties as read when the batch opened. They stay good for a customer
        /// until a write of the batch moves one of its lots (every move is an append, which
        /// says so), and for everyone once a write ran a statement of its own that may have
        /// changed anything (`DeferringDatabase`).
        var parties: [CallOffTarget: CallOffParties] = [:]
        var customersMoved: Set<Customer.ID> = []
        var partiesStale = false
    }

    /// What the batch knows is kept under a key: an answer, or none.
    struct KnownAnswer: Sendable, Equatable {
        let answer: KeptAnswer?
    }

    private let state = Mutex<State>(State())

    var snapshot: State { state.withLock { $0 } }

    /// Back to what it was before a write that failed.
    func restore(_ snapshot: State) {
        state.withLock { $0 = snapshot }
    }

    /// The chain head as the batch's last append left it.
    func ledgerHead(on sql: any SQLDatabase) async throws -> LedgerHead {
        try await sequences(on: sql).ledgerHead
    }

    func remember(_ ledgerHead: LedgerHead) {
        state.withLock { state in
            precondition(state.sequences != nil, "the head moved before the batch read it")
            state.sequences?.now.ledgerHead = ledgerHead
        }
    }

    /// The next number of counter `name`, which moves on.
    func takeID(_ name: String, on sql: any SQLDatabase) async throws -> Int {
        guard let next = try await sequences(on: sql).nextIDs[name] else {
            throw StoreError(.corruptRow, "id counter \(name) is missing")
        }
        state.withLock { $0.sequences?.now.nextIDs[name] = next + 1 }
        return next
    }

    /// The head and the counters, read the first time a write of the batch needs one of them:
    /// both in one statement, since a write that needs one nearly always needs the other.
    private func sequences(on sql: any SQLDatabase) async throws -> Sequences {
        if let known = state.withLock({ $0.sequences?.now }) { return known }
        let rows = try await sql.raw("""
            SELECT name, next_value, CAST(NULL AS TEXT) AS hash FROM id_counters
            UNION ALL SELECT '', seq, hash FROM ledger_head WHERE id = 1
            """).all()
        var head: LedgerHead?
        var nextIDs: [String: Int] = [:]
        for row in rows {
            let name = try row.decode(column: "name", as: String.self)
            let value = try row.decode(column: "next_value", as: Int.self)
            if name.isEmpty {
                head = LedgerHead(seq: value, hash: try row.decode(column: "hash", as: String.self))
            } else {
                nextIDs[name] = value
            }
        }
        guard let head else { throw StoreError(.corruptRow, "ledger_head row is missing") }
        let read = Sequences(ledgerHead: head, nextIDs: nextIDs)
        state.withLock { $0.sequences = SequencesSinceRead(read: read, now: read) }
        return read
    }

    /// Reads what the batch's writes will read first: the answers kept under their keys, and
    /// their call-offs' parties, a statement each.
    func readAhead(_ reads: [ReadAhead], on sql: any SQLDatabase) async throws {
        let keys = Set(reads.compactMap(\.answerKey))
        let kept = try await DeskStore.keptAnswers(keys, on: sql)
        let parties = try await DeskStore.callOffParties(Set(reads.compactMap(\.callOff)), on: sql)
        state.withLock { state in
            for key in keys { state.answers[key] = KnownAnswer(answer: kept[key]) }
            state.parties = parties
        }
    }

    /// The parties of a call-off as read ahead, if they are still good.
    func knownParties(_ target: CallOffTarget) -> CallOffParties? {
        state.withLock { state in
            guard !state.partiesStale, !state.customersMoved.contains(target.customer) else { return nil }
            return state.parties[target]
        }
    }

    /// A write of the batch moves `customer`'s lots.
    func moving(_ customer: Customer.ID) {
        state.withLock { _ = $0.customersMoved.insert(customer) }
    }

    var readAheadIsGood: Bool { state.withLock { !$0.partiesStale } }

    /// A write of the batch ran a statement that may have changed anything.
    func forgetReadAhead() {
        state.withLock { $0.partiesStale = true }
    }

    /// What the batch knows is kept under `key`; nil if it hasn't read that key.
    func keptAnswer(_ key: IdempotencyKey) -> KnownAnswer? {
        state.withLock { $0.answers[key] }
    }

    func keep(_ answer: KeptAnswer, for key: IdempotencyKey) {
        state.withLock { $0.answers[key] = KnownAnswer(answer: answer) }
    }

    /// Stores the head and the counters the batch's writes moved, in the batch's transaction:
    /// held and sent together, so on PostgreSQL one statement.
    func store(on sql: any SQLDatabase) async throws {
        guard let sequences = snapshot.sequences, sequences.read != sequences.now else { return }
        let (read, now) = (sequences.read, sequences.now)
        try await DeferringDatabase.within(sql) { sql in
            if now.ledgerHead != read.ledgerHead { try await Ledger.storeHead(now.ledgerHead, on: sql) }
            for (name, next) in now.nextIDs.sorted(by: { $0.key < $1.key }) where next != read.nextIDs[name] {
                try await Ledger.storeNextID(name, next, on: sql)
            }
        }
    }
}
