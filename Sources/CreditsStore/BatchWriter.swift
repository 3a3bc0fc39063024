import Foundation
import SQLKit
import Synchronization

/// Group commit: writes that arrive while a transaction is being written wait, then run together
/// in the next transaction. One commit (one fsync) then makes a whole batch durable, so many
/// concurrent callers cost about what one does; a write that fails leaves the others of its
/// batch whole (see `write`). Nobody hears "done" before the batch's COMMIT returned.
///
/// SQLite: the batch runs on the one writer connection, behind its gate. PostgreSQL: on a pooled
/// connection, under the advisory lock that serialises writers across processes; there a batch
/// also saves each write the lock's queue, its BEGIN and its COMMIT.
final class BatchWriter: Sendable {
    struct Job: Sendable {
        /// What the job reads first, read with the others of its batch.
        let ahead: ReadAhead
        let run: @Sendable (any SQLDatabase) async throws -> any Sendable
        let finish: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    typealias Results = [Result<any Sendable, any Error>]
    /// Gets a connection for one batch and runs `body` on it; throws if no connection came.
    typealias Session = @Sendable (_ body: @escaping @Sendable (any SQLDatabase) async -> Results) async throws -> Results

    /// A bound on one batch, so one transaction stays short.
    static let batchSizeMax = 64
    /// Writes that may wait for a batch. Past it a write is refused at once as busy (503 with
    /// Retry-After): a queue that only grows would hold every caller and its memory.
    static let pendingMax = 4_096

    /// The statements that open a batch's transaction and take the write lock.
    private let begin: [String]
    private let session: Session
    private let state = Mutex<(pending: [Job], draining: Bool)>(([], false))

    init(begin: [String], session: @escaping Session) {
        self.begin = begin
        self.session = session
    }

    /// Writes waiting for the next batch, and whether a batch is being written (for tests).
    var waiting: Int { state.withLock { $0.pending.count } }
    var isWriting: Bool { state.withLock { $0.draining } }

    func submit<T: Sendable>(
        readingAhead ahead: ReadAhead = ReadAhead(), _ body: @escaping @Sendable (any SQLDatabase) async throws -> T
    ) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(ahead: ahead, run: { try await body($0) }, finish: { result in
                continuation.resume(with: result.map { $0 as! T })
            })
            let admission = state.withLock { state -> QueueAdmission in
                guard state.pending.count < Self.pendingMax else { return .full }
                state.pending.append(job)
                guard !state.draining else { return .queued }
                state.draining = true
                return .drain
            }
            switch admission {
            case .drain, .now: Task { await self.drain() }
            case .queued: break
            case .full: continuation.resume(throwing: StoreError.busy(waiting: Self.pendingMax))
            }
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
    /// On PostgreSQL a lone call-off is nine round trips.
    private func writeAlone(_ job: Job, on sql: any SQLDatabase) async -> Result<any Sendable, any Error> {
        do {
            let value = try await Self.run(job, on: DeferringDatabase(base: sql))
            try await sql.raw("COMMIT").run()
            return .success(value)
        } catch {
            try? await sql.raw("ROLLBACK").run()
            return .failure(error)
        }
    }

    /// One transaction for the batch; the results are final only once COMMIT has returned.
    ///
    /// Jobs run without savepoints: a SAVEPOINT is a round trip per job on PostgreSQL, and most
    /// jobs that fail (refusals) fail before they write. Such a job has left nothing in the
    /// transaction and the batch goes on. A job that fails after writing, or after a statement
    /// failed (which aborts a PostgreSQL transaction), spoils the batch: it is rolled back and its
    /// other jobs run again in a new transaction, each behind a savepoint this time. So a job may
    /// run twice before its answer; whatever it does besides its statements must be safe to repeat.
    private func write(_ batch: [Job], on sql: any SQLDatabase) async -> Results {
        do {
            try await open(on: sql)
            if batch.count == 1 { return [await writeAlone(batch[0], on: sql)] }
            switch try await runEach(batch, savepoints: false, on: sql) {
            case .ran(let results, let memory):
                return try await commit(results, memory, on: sql)
            case .spoiled(let index, let error):
                try await sql.raw("ROLLBACK").run()
                try await open(on: sql)
                var others = batch
                others.remove(at: index)
                guard case .ran(var results, let memory) = try await runEach(others, savepoints: true, on: sql) else {
                    preconditionFailure("a job behind a savepoint spoiled its batch")
                }
                results.insert(.failure(error), at: index)
                return try await commit(results, memory, on: sql)
            }
        } catch {
            // The transaction machinery itself failed: nothing of this batch can be trusted.
            try? await sql.raw("ROLLBACK").run()
            return batch.map { _ in .failure(error) }
        }
    }

    private func open(on sql: any SQLDatabase) async throws {
        for statement in begin { try await sql.raw(SQLQueryString(statement)).run() }
    }

    private func commit(_ results: Results, _ memory: BatchMemory, on sql: any SQLDatabase) async throws -> Results {
        try await memory.store(on: sql)
        try await sql.raw("COMMIT").run()
        return results
    }

    /// How a batch's jobs ran: each to its result, or up to one that spoiled the transaction.
    private enum Run {
        case ran(Results, BatchMemory)
        case spoiled(at: Int, any Error)
    }

    /// Runs the jobs in turn in the open transaction. With `savepoints`, a job that fails is rolled
    /// back to its own and the others go on; without, one that fails after changing the
    /// transaction stops the run. Each job's savepoint nests in the previous one's and is never
    /// released: COMMIT keeps them all, and ROLLBACK TO names the newest, the failing job's.
    private func runEach(_ batch: [Job], savepoints: Bool, on sql: any SQLDatabase) async throws -> Run {
        var results: Results = []
        let memory = BatchMemory()
        try await memory.readAhead(batch.map(\.ahead), on: sql)
        for (index, job) in batch.enumerated() {
            if savepoints { try await sql.raw("SAVEPOINT batch_job").run() }
            let before = memory.snapshot
            let view = DeferringDatabase(base: sql)
            do {
                results.append(.success(try await BatchMemory.$current.withValue(memory) { try await Self.run(job, on: view) }))
            } catch {
                memory.restore(before)
                results.append(.failure(error))
                if savepoints {
                    try await sql.raw("ROLLBACK TO batch_job").run()
                } else if view.changedTransaction {
                    return .spoiled(at: index, error)
                }
            }
        }
        return .ran(results, memory)
    }

    /// Runs `job` on its own deferring view and sends what it held: the job's writes are in the
    /// transaction (or have failed) when this returns.
    private static func run(_ job: Job, on view: DeferringDatabase) async throws -> any Sendable {
        let value = try await job.run(view)
        try await view.send()
        return value
    }
}
