import Foundation
import SQLKit
import Synchronization

/// Group commit for the one SQLite connection: writes that arrive while a transaction is being
/// written wait, then run together in the next transaction, each inside its own savepoint. One
/// fsync then makes a whole batch durable, so many concurrent callers cost about what one does;
/// a write that fails rolls back to its savepoint and leaves the others of its batch alone.
/// Nobody hears "done" before the batch's COMMIT returned.
final class BatchWriter: Sendable {
    struct Job: Sendable {
        let run: @Sendable (any SQLDatabase) async throws -> any Sendable
        let finish: @Sendable (Result<any Sendable, any Error>) -> Void
    }

    /// A bound on one batch, so one transaction stays short.
    static let batchSizeMax = 64

    private let connection: @Sendable () -> any SQLDatabase
    private let gate: AsyncGate
    private let state = Mutex<(pending: [Job], draining: Bool)>(([], false))

    init(gate: AsyncGate, connection: @escaping @Sendable () -> any SQLDatabase) {
        self.gate = gate
        self.connection = connection
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
            await gate.enter()
            let results = await write(batch)
            await gate.leave()
            for (job, result) in zip(batch, results) { job.finish(result) }
        }
    }

    /// One transaction for the batch; the results are final only once COMMIT has returned.
    private func write(_ batch: [Job]) async -> [Result<any Sendable, any Error>] {
        let sql = connection()
        do {
            try await sql.raw("BEGIN IMMEDIATE").run()
        } catch {
            return batch.map { _ in .failure(error) }
        }
        var results: [Result<any Sendable, any Error>] = []
        for job in batch {
            do {
                try await sql.raw("SAVEPOINT batch_job").run()
                do {
                    results.append(.success(try await job.run(sql)))
                    try await sql.raw("RELEASE batch_job").run()
                } catch {
                    results.append(.failure(error))
                    try await sql.raw("ROLLBACK TO batch_job").run()
                    try await sql.raw("RELEASE batch_job").run()
                }
            } catch {
                // The savepoint machinery itself failed: nothing of this batch can be trusted.
                try? await sql.raw("ROLLBACK").run()
                return batch.map { _ in .failure(error) }
            }
        }
        do {
            try await sql.raw("COMMIT").run()
            return results
        } catch {
            try? await sql.raw("ROLLBACK").run()
            return batch.map { _ in .failure(error) }
        }
    }
}
