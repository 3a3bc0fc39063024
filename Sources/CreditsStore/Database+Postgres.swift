import CreditsCore
import Foundation
import Synchronization
import Logging
import NIOCore
import NIOPosix
import PostgresKit
import SQLKit

extension DeskDatabase {
    static func openPostgres(_ url: String, settings: PostgresSettings, logger: Logger) async throws -> DeskDatabase {
        guard let parts = URLComponents(string: url), let host = parts.host, !host.isEmpty else {
            throw StoreError(.cannotOpen, "'\(redacted(url))' is not a PostgreSQL URL like postgres://user:password@host:5432/database")
        }
        let requireTLS = parts.queryItems?.contains { $0.name == "sslmode" && $0.value == "require" } == true
        let user = parts.user ?? "postgres"
        let databaseName = parts.path.count > 1 ? String(parts.path.dropFirst()) : nil
        try await checkReachable(host: host, port: parts.port ?? 5432, user: user, password: parts.password,
                                 database: databaseName, requireTLS: requireTLS, settings: settings, url: url, logger: logger)
        var configuration = PostgresClient.Configuration(
            host: host, port: parts.port ?? 5432, username: user, password: parts.password, database: databaseName,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable)
        configuration.options.maximumConnections = settings.poolSizeMax
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeoutSeconds))
        configuration.options.additionalStartupParameters = [("statement_timeout", String(settings.statementTimeoutMilliseconds))]
        if let schema = settings.schema {
            configuration.options.additionalStartupParameters.append(("search_path", schema))
        }
        // NB: the client warns if a lease races its `run()` starting; that race is harmless here.
        var clientLogger = logger
        clientLogger.logLevel = .error
        let client = PostgresClient(configuration: configuration, backgroundLogger: clientLogger)
        let runner = Task { await client.run() }
        let health = DatabaseHealth()
        let statements = PostgresStatements()
        // One advisory lock for all writers, held until commit (see `DeskDatabase`).
        let writer = BatchWriter(begin: ["BEGIN", "SELECT pg_advisory_xact_lock(\(writerLockKey))"]) { body in
            try await withLeaseDeadline(seconds: leaseTimeoutSeconds, health: health) { leased in
                try await client.withConnection { connection in
                    try leased()
                    return await EventLoopTaskExecutor.on(connection.eventLoop) { await body(statements.sql(on: connection)) }
                }
            }
        }
        let engine = Engine.postgres(client, runner, health, writer, statements)
        let database = DeskDatabase(path: redacted(url), engine: engine, logger: logger)
        do {
            if let schema = settings.schema {
                try await client.withConnection { connection in
                    try await connection.sql().raw("CREATE SCHEMA IF NOT EXISTS \(ident: schema)").run()
                }
            }
            _ = try await database.read { sql in try await sql.raw("SELECT 1 AS one").first() }
        } catch {
            await database.close()
            throw StoreError(.cannotOpen, "can't reach PostgreSQL at \(redacted(url)): \(database.translate(error)); check that the server runs and the URL is right")
        }
        return database
    }

    /// One plain connection first, so a wrong URL or a stopped server is reported within the
    /// connect timeout rather than after the pool has given up retrying.
    static func checkReachable(
        host: String, port: Int, user: String, password: String?, database: String?, requireTLS: Bool,
        settings: PostgresSettings, url: String, logger: Logger
    ) async throws {
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: user, password: password, database: database,
            tls: requireTLS ? .require(try .init(configuration: .makeClientConfiguration())) : .disable)
        configuration.options.connectTimeout = .seconds(Int64(settings.connectTimeoutSeconds))
        do {
            let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
            try await connection.close()
        } catch {
            throw StoreError(.cannotOpen, "can't reach PostgreSQL at \(redacted(url)) (\(describe(error))); check that the server runs and the URL is right")
        }
    }

    /// PSQLError hides its details from `description` (they may hold secrets); the code, the
    /// underlying network error and the server's message are safe to show.
    static func describe(_ error: any Error) -> String {
        guard let psql = error as? PSQLError else { return String(describing: error).prefix(200).description }
        var parts = [psql.code.description]
        if let underlying = psql.underlying { parts.append(String(describing: underlying).prefix(160).description) }
        if let message = psql.serverInfo?[.message] { parts.append(message) }
        return parts.joined(separator: ": ")
    }

    /// The URL without its password, for messages and logs. Done on the text, not on a parsed
    /// URL: a URL that does not parse is the one most likely to be echoed (hardening L9). Every
    /// character between `user:` and the last `@` goes, so a password holding `@`, `/` or `:` does
    /// not leak either.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.range(of: "@", options: .backwards),
            at.lowerBound > scheme.upperBound
        else { return url }
        let userInfo = url[scheme.upperBound..<at.lowerBound]
        let user = userInfo.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return url[..<scheme.upperBound] + user + ":***" + url[at.lowerBound...]
    }

    /// Text PostgreSQL can't hold (22021: a NUL byte, or bytes that are not UTF-8; 22P05): the
    /// request's fault, so a 400 rather than a 500. The edges refuse such text first; this is the
    /// store's own guard for any caller that did not (hardening L5).
    static func textRefusal(sqlState state: String) -> Rejection? {
        guard state == "22021" || state == "22P05" else { return nil }
        return Rejection(.invalidText, "the text holds a character the database can't store (a NUL byte); use plain text")
    }

    /// SQLSTATE classes of a server that can't serve now: 08 connection exception, 57P operator
    /// intervention (shutdown), 53 insufficient resources.
    static func meansUnavailable(sqlState state: String) -> Bool {
        state.hasPrefix("08") || state.hasPrefix("57P") || state.hasPrefix("53")
    }

    /// Connection-level failures become `unavailable` (HTTP 503: try again); errors the server
    /// reports about a statement stay as they are, since they are bugs.
    func translate(_ error: any Error) -> any Error {
        switch error {
        case is Rejection, is StoreError: return error
        case let psql as PSQLError:
            if let state = psql.serverInfo?[.sqlState] {
                if let refusal = Self.textRefusal(sqlState: state) { return refusal }
                guard Self.meansUnavailable(sqlState: state) else { return error }
                return StoreError(.unavailable, "PostgreSQL is not available (\(state)); retry shortly")
            }
            return StoreError(.unavailable, "PostgreSQL connection failed (\(psql.code)); retry shortly")
        case let postgres as PostgresError:
            // The form errors take on the prepared-statement path (`PostgresStatements`).
            if case .server(let message) = postgres, let state = message.fields[.sqlState],
               !Self.meansUnavailable(sqlState: state) {
                return Self.textRefusal(sqlState: state) ?? error
            }
            return StoreError(.unavailable, "PostgreSQL is not available (\(postgres)); retry shortly")
        // IOError: the socket itself failed, as a read does when PostgreSQL dies mid-answer
        // (connection reset); seen as a 500 in the outage run before it was here.
        case is NIOConnectionError, is ChannelError, is IOError:
            return StoreError(.unavailable, "PostgreSQL connection failed (\(error)); retry shortly")
        default:
            if String(describing: type(of: error)).contains("Connection") {
                return StoreError(.unavailable, "database connection failed (\(error)); retry shortly")
            }
            return error
        }
    }
}


extension DeskDatabase {
    /// How long a request waits for a pooled connection before it is told the database is
    /// unavailable. While PostgreSQL is down the pool keeps retrying; callers shouldn't hang on it.
    var leaseTimeoutSeconds: Int {
        switch engine {
        case .sqlite: 0
        case .postgres: Self.leaseTimeoutSeconds
        }
    }

    static let leaseTimeoutSeconds = 5

    /// Runs `operation`, failing with `unavailable` if it hasn't got its connection (called
    /// `leased`) within the deadline. Once leased it runs to the end: timing out a transaction
    /// that may be committing would tell the client "failed" about a write that happened.
    ///
    /// NB: not a task group. A group waits for all its children, and while PostgreSQL is down a
    /// pending lease may not end when cancelled; the caller must get its answer regardless.
    static let transactionAnswerSecondsMax = 20
    /// However busy the server, no request waits longer than this for its transaction.
    static let queueSecondsMax = 120

    static func withLeaseDeadline<T: Sendable>(
        seconds: Int, health: DatabaseHealth,
        _ operation: @escaping @Sendable (@escaping @Sendable () throws -> Void) async throws -> T
    ) async throws -> T {
        let lease = LeaseRace()
        let answer = OneAnswer<T>()
        // The watchdog below sleeps for up to `queueSecondsMax`; it is cancelled as soon as the
        // work has answered, so a finished transaction leaves no task behind (hardening bounds).
        let watchdog = TaskSlot()
        return try await withCheckedThrowingContinuation { continuation in
            answer.install(continuation)
            let work = Task {
                do {
                    // A connection that arrives after the caller was told "unavailable" is not used.
                    let value = try await operation { guard lease.lease() else { throw CancellationError() } }
                    health.succeeded()
                    answer.give(.success(value))
                } catch {
                    // A refusal by the rules came from a database that answered.
                    if error is Rejection { health.succeeded() }
                    answer.give(.failure(error))
                }
                watchdog.cancel()
            }
            let timer = Task {
                // While other transactions keep committing the server is up and this one is only
                // queued behind them (writers are serialised): keep waiting, up to a bound.
                var waited = 0
                repeat {
                    try? await Task.sleep(for: .seconds(seconds))
                    if Task.isCancelled { return }
                    waited += seconds
                } while !lease.isDecided && health.recentlySucceeded(within: seconds) && waited < Self.queueSecondsMax
                if lease.expire() {
                    answer.give(.failure(StoreError(.unavailable, "no database connection within \(waited) s; PostgreSQL may be down or overloaded, retry shortly")))
                    work.cancel()
                    return
                }
                // Leased: a server that died mid-transaction may never answer on its socket. The
                // caller hears "unknown" rather than waiting for ever; a retry with the same
                // Idempotency-Key then finds the write if it committed.
                repeat {
                    try? await Task.sleep(for: .seconds(Self.transactionAnswerSecondsMax))
                    if Task.isCancelled { return }
                    waited += Self.transactionAnswerSecondsMax
                } while !answer.isGiven && health.recentlySucceeded(within: Self.transactionAnswerSecondsMax) && waited < Self.queueSecondsMax
                answer.give(.failure(StoreError(.unavailable, "no answer from PostgreSQL within \(waited) s; the change may or may not have been made: retry with the same Idempotency-Key")))
            }
            watchdog.hold(timer)
            if answer.isGiven { timer.cancel() }
        }
    }
}

/// A task that another may cancel before or after it is put here.
final class TaskSlot: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    func hold(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.cancelled
        }
        if cancelled { task.cancel() }
    }

    func cancel() {
        state.withLock { state in
            state.cancelled = true
            return state.task
        }?.cancel()
    }
}

/// A continuation resumed once, by whichever of its racers answers first.
final class OneAnswer<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, early: Result<T, any Error>?)>((nil, nil))

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    var isGiven: Bool { state.withLock { $0.early != nil } }

    func give(_ result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard state.early == nil else { return nil }
            state.early = result
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }
}


/// When a transaction last committed: a server that keeps committing is up, however long the
/// queue in front of one request.
final class DatabaseHealth: Sendable {
    private let lastSuccess = Mutex<ContinuousClock.Instant?>(nil)

    func succeeded() { lastSuccess.withLock { $0 = .now } }

    func recentlySucceeded(within seconds: Int) -> Bool {
        lastSuccess.withLock { last in last.map { ContinuousClock.now - $0 < .seconds(seconds) } ?? false }
    }
}

/// Who wins between a connection lease and its deadline: exactly one of them.
final class LeaseRace: Sendable {
    private enum State { case pending, leased, expired }
    private let state = Mutex(State.pending)

    var isDecided: Bool {
        state.withLock { state in
            if case .pending = state { return false }
            return true
        }
    }

    func lease() -> Bool { win(.leased) }
    func expire() -> Bool { win(.expired) }

    private func win(_ outcome: State) -> Bool {
        state.withLock { state in
            guard case .pending = state else { return false }
            state = outcome
            return true
        }
    }
}

final class LeaseFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
