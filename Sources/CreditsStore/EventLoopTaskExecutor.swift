import NIOCore

/// Runs a task's jobs on one event loop: the loop that does a PostgreSQL connection's I/O.
/// A transaction there is a chain of round trips; with this preference each answer resumes the
/// task on the thread that read it, instead of waking a thread of the concurrency pool per
/// statement and handing the next statement back to the loop.
final class EventLoopTaskExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }

    /// Runs `operation` with its jobs on `eventLoop`.
    static func on<T: Sendable>(_ eventLoop: any EventLoop, _ operation: () async throws -> T) async rethrows -> T {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop), operation: operation)
    }
}

