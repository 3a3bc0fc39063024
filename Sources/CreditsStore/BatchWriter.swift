import Foundation
import SQLKit
import Synchronization

/// Group commit: writes that arrive while a transaction is being written wait, then run together
/// in the next transaction, each inside its own savepoint. One commit (one fsync) then makes a
/// whole batch durable, so many concurrent callers cost about what one does; a write that fails
/// rolls back to its savepoint and leaves the others of its batch alone. Nobody hears "done"
/// before the batch's COMMIT returned.
///
/// SQLite: the batch runs on the one writer connection, behind its gate. PostgreSQL: on a pooled
/// connection, under the advisory lock that serialises writers across processes; there a batch
/// also saves each write the lock's queue, its BEGIN and its COMMIT.
final class BatchWriter: Sendable {
    struct Job: Sendable {
        let run: @Sendable (any SQLDatabase) async throws -> any Sendable
        let finish: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    typealias Results = [Result<any Sendable, any Error>]
    /// Gets a connection for one batch and runs `body` on it; throws if no connection came.
    typealias Session = @Sendable (_ body: @escaping @Sendable (any SQLDatabase) async -> Results) async throws -> Results

    /// A bound on one batch, so one transaction stays short.
    static let batchSizeMax = 64

    /// The statements that open a batch's transaction and take the write lock.
    private let begin: [String]
    private let session: Session
    private let state = Mutex<(pending: [Job], draining: Bool)>(([], false))

    init(begin: [String], session: @escaping Session) {
        self.begin = begin
        self.session = session
    }

    func submit<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase) async throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(run: { try await body($0) }, finish: { result in
                continuation.resume(with: result.map { $0 as! T })
            })
            let startDraining = state.withLock { state -> Bool in
                state.pending.append(job)
                guard !state.draining else { return false }
                state.draining = true
                return true
            }
            if startDraining { Task { await self.drain() } }
        }
    }

    private func drain() async {
        while true {
            let batch = state.withLock { state -> [Job] in
                let batch = Array(state.pending.prefix(Self.batchSizeMax))
                state.pending.removeFirst(batch.count)
                if batch.isEmpty { state.draining = false }
                return batch
            }
            if batch.isEmpty { return }
            let results: Results
            do {
                results = try await session { sql in await self.write(batch, on: sql) }
            } catch {
                results = batch.map { _ in .failure(error) }
            }
            for (job, result) in zip(batch, results) { job.finish(result) }
        }
    }

    /// A write alone in its batch needs no savepoint: if it fails, its whole transaction goes.
    /// That saves the SAVEPOINT: on PostgreSQL a lone call-off is nine round trips, not ten.
    private func writeAlone(_ job: Job, on sql: any SQLDatabase) async -> Result<any Sendable, any Error> {
        do {
            let value = try await job.run(sql)
            try await sql.raw("COMMIT").run()
            return .success(value)
        } catch {
            try? await sql.raw("ROLLBACK").run()
            return .failure(error)
        }
    }

    /// One transaction for the batch; the results are final only once COMMIT has returned.
    private func write(_ batch: [Job], on sql: any SQLDatabase) async -> Results {
        do {
            for statement in begin { try await sql.raw(SQLQueryString(statement)).run() }
        } catch {
            return batch.map { _ in .failure(error) }
        }
        if batch.count == 1 { return [await writeAlone(batch[0], on: sql)] }
        // Each job's savepoint nests in the previous one's and is never released: COMMIT keeps
        // them all, and ROLLBACK TO names the newest, which is the failing job's. That saves a
        // RELEASE (a PostgreSQL round trip) per job. On PostgreSQL a writing subtransaction holds
        // its id until COMMIT whether released or not, so nesting costs nothing more there.
        var results: Results = []
        let memory = BatchMemory()
        for job in batch {
            do {
                try await sql.raw("SAVEPOINT batch_job").run()
                let before = memory.snapshot
                do {
                    results.append(.success(try await BatchMemory.$current.withValue(memory) { try await job.run(sql) }))
                } catch {
                    memory.restore(before)
                    results.append(.failure(error))
                    try await sql.raw("ROLLBACK TO batch_job").run()
                }
            } catch {
                // The savepoint machinery itself failed: nothing of this batch can be trusted.
                try? await sql.raw("ROLLBACK").run()
                return batch.map { _ in .failure(error) }
            }
        }
        do {
            try await memory.store(on: sql)
            try await sql.raw("COMMIT").run()
            return results
        } catch {
            try? await sql.raw("ROLLBACK").run()
            return batch.map { _ in .failure(error) }
        }
    }
}

/// What the writes of one batch carry from one to the next: the chain head, which every append
/// reads and moves, and the id counters a write takes its numbers from. Only writes of this
/// process move them while the batch holds the write lock, so the batch reads each once, keeps it
/// here and stores it once, before its COMMIT, rather than reading and updating its row in every
/// write (on PostgreSQL, a round trip or two each). A write that fails is rolled back to its
/// savepoint, and the memory goes back to what it was before that write, so a rolled-back write
/// gives its numbers back as it does outside a batch.
final class BatchMemory: Sendable {
    @TaskLocal static var current: BatchMemory?

    struct LedgerHead: Sendable, Equatable {
        let seq: Int
        let hash: String
    }

    /// What the batch's writes left: the head (nil while none has appended) and the next value
    /// of every counter one of them used.
    struct State: Sendable, Equatable {
        var ledgerHead: LedgerHead?
        var nextIDs: [String: Int] = [:]
    }

    private let state = Mutex<State>(State())

    var snapshot: State { state.withLock { $0 } }
    var ledgerHead: LedgerHead? { state.withLock { $0.ledgerHead } }

    func remember(_ ledgerHead: LedgerHead) {
        state.withLock { $0.ledgerHead = ledgerHead }
    }

    /// The next number of counter `name` and moves it on; nil until the batch has read the counter.
    func takeID(_ name: String) -> Int? {
        state.withLock { state in
            guard let next = state.nextIDs[name] else { return nil }
            state.nextIDs[name] = next + 1
            return next
        }
    }

    /// Starts keeping counter `name`, read as `next`, and takes that number.
    func takeID(_ name: String, readAs next: Int) -> Int {
        state.withLock { $0.nextIDs[name] = next + 1 }
        return next
    }

    /// Back to what it was before a write that failed.
    func restore(_ snapshot: State) {
        state.withLock { $0 = snapshot }
    }

    /// Stores what the batch's writes left, in the batch's transaction: held and sent together,
    /// so on PostgreSQL the head and the counters are one statement.
    func store(on sql: any SQLDatabase) async throws {
        let state = snapshot
        try await DeferringDatabase.within(sql) { sql in
            if let head = state.ledgerHead { try await Ledger.storeHead(head, on: sql) }
            for (name, next) in state.nextIDs.sorted(by: { $0.key < $1.key }) {
                try await Ledger.storeNextID(name, next, on: sql)
            }
        }
    }
}
