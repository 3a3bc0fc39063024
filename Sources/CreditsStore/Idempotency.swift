import CreditsCore
import Foundation
import SQLKit

/// A response as it was first given, kept so a retry with the same idempotency key gets it again.
public struct StoredResponse: Sendable, Equatable {
    public let status: Int
    public let body: String

    public init(status: Int, body: String) {
        self.status = status
        self.body = body
    }
}

/// Whose key: each principal has its own idempotency keys.
public struct IdempotencyKey: Hashable, Sendable {
    public let principal: String
    public let key: String
}

/// An answer as kept under its key, with the hash of the request it answered.
struct KeptAnswer: Sendable, Equatable {
    let requestHash: String
    let response: StoredResponse
}

/// What an idempotent write gives back: the value it has just written, or the answer stored
/// for its key by an earlier attempt (a success, or a refusal that can't pass later).
public enum IdempotentOutcome<Value: Sendable>: Sendable {
    case written(Value)
    case answered(StoredResponse)
}

extension DeskStore {
    public static let idempotencyKeyLengthMax = 200

    /// Runs a write at most once per (principal, key): the key and the answer are stored in the
    /// same transaction as the write, so a crash can't separate them. The same key with the same
    /// request hash gives back the stored answer; with another request it is refused.
    ///
    /// Refusals that can't pass later (bad input) are stored too, so a retry sees the same answer;
    /// those that may (`mayPassLater`, e.g. not enough credits yet) are not, so a retry after the
    /// situation changed is decided afresh.
    ///
    /// `answer` renders the value as it is stored; it runs only when there is a key to store it
    /// under, so a write without a key never pays for rendering an answer nobody will ask for again.
    public func idempotentWrite<Value: Sendable>(
        principal: String, key: String?, requestHash: String,
        readingAhead ahead: ReadAhead = ReadAhead(),
        refusal: @escaping @Sendable (Rejection) -> StoredResponse,
        answer: @escaping @Sendable (Value) -> StoredResponse,
        _ operation: @escaping @Sendable (any SQLDatabase, String) async throws -> Value
    ) async throws -> IdempotentOutcome<Value> {
        let recordedAt = self.recordedAt
        guard let key else {
            return .written(try await database.write(readingAhead: ahead) { sql in try await operation(sql, recordedAt) })
        }
        guard !key.isEmpty, key.utf8.count <= Self.idempotencyKeyLengthMax else {
            throw Rejection(.invalidInput, "Idempotency-Key must be 1 to \(Self.idempotencyKeyLengthMax) bytes")
        }
        let id = IdempotencyKey(principal: principal, key: key)
        var ahead = ahead
        ahead.answerKey = id
        do {
            return try await database.write(readingAhead: ahead) { sql in
                if let stored = try await Self.storedResponse(id, requestHash: requestHash, on: sql) {
                    return .answered(stored)
                }
                let value = try await operation(sql, recordedAt)
                try await Self.remember(answer(value), id, requestHash: requestHash, at: recordedAt, on: sql)
                return .written(value)
            }
        } catch let rejection as Rejection where rejection.code != .idempotencyKeyReuse && !rejection.code.mayPassLater {
            let response = refusal(rejection)
            return .answered(try await database.write(readingAhead: ReadAhead(answerKey: id)) { sql in
                if let stored = try await Self.storedResponse(id, requestHash: requestHash, on: sql) {
                    return stored
                }
                try await Self.remember(response, id, requestHash: requestHash, at: recordedAt, on: sql)
                return response
            })
        }
    }

    /// The answer kept under `id`, if any; refused if it answered another request. In a batch
    /// the batch has read it already, with its other jobs' (`BatchMemory`).
    static func storedResponse(_ id: IdempotencyKey, requestHash: String, on sql: any SQLDatabase) async throws -> StoredResponse? {
        let kept: KeptAnswer?
        if let known = BatchMemory.current?.keptAnswer(id) {
            kept = known.answer
        } else {
            kept = try await keptAnswers([id], on: sql)[id]
        }
        guard let kept else { return nil }
        guard kept.requestHash == requestHash else {
            throw Rejection(.idempotencyKeyReuse, "Idempotency-Key \(id.key.prefix(40)) was used for a different request")
        }
        return kept.response
    }

    /// The answers kept under any of `ids`, in one statement.
    static func keptAnswers(_ ids: some Collection<IdempotencyKey>, on sql: any SQLDatabase) async throws -> [IdempotencyKey: KeptAnswer] {
        guard !ids.isEmpty else { return [:] }
        let matches: [SQLQueryString] = ids.map { "(principal = \(bind: $0.principal) AND idempotency_key = \(bind: $0.key))" }
        let rows = try await sql.raw(
            "SELECT principal, idempotency_key, request_hash, status, body FROM idempotency_keys WHERE "
                + matches.joined(separator: " OR ")).all()
        var kept: [IdempotencyKey: KeptAnswer] = [:]
        for row in rows {
            let id = IdempotencyKey(principal: try row.decode(column: "principal", as: String.self),
                                    key: try row.decode(column: "idempotency_key", as: String.self))
            let response = StoredResponse(status: try row.decode(column: "status", as: Int.self),
                                          body: try row.decode(column: "body", as: String.self))
            kept[id] = KeptAnswer(requestHash: try row.decode(column: "request_hash", as: String.self), response: response)
        }
        return kept
    }

    static func remember(_ response: StoredResponse, _ id: IdempotencyKey, requestHash: String, at time: String, on sql: any SQLDatabase) async throws {
        try await sql.later("""
            INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, status, body, created_at)
            VALUES (\(bind: id.principal), \(bind: id.key), \(bind: requestHash), \(bind: response.status), \(bind: response.body), \(bind: time))
            """)
        BatchMemory.current?.keep(KeptAnswer(requestHash: requestHash, response: response), for: id)
    }
}
