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
        refusal: @escaping @Sendable (Rejection) -> StoredResponse,
        answer: @escaping @Sendable (Value) -> StoredResponse,
        _ operation: @escaping @Sendable (any SQLDatabase, String) async throws -> Value
    ) async throws -> IdempotentOutcome<Value> {
        let recordedAt = self.recordedAt
        guard let key else {
            return .written(try await database.write { sql in try await operation(sql, recordedAt) })
        }
        guard !key.isEmpty, key.utf8.count <= Self.idempotencyKeyLengthMax else {
            throw Rejection(.invalidInput, "Idempotency-Key must be 1 to \(Self.idempotencyKeyLengthMax) bytes")
        }
        do {
            return try await database.write { sql in
                if let stored = try await Self.storedResponse(principal: principal, key: key, requestHash: requestHash, on: sql) {
                    return .answered(stored)
                }
                let value = try await operation(sql, recordedAt)
                try await Self.remember(answer(value), principal: principal, key: key, requestHash: requestHash, at: recordedAt, on: sql)
                return .written(value)
            }
        } catch let rejection as Rejection where rejection.code != .idempotencyKeyReuse && !rejection.code.mayPassLater {
            let response = refusal(rejection)
            return .answered(try await database.write { sql in
                if let stored = try await Self.storedResponse(principal: principal, key: key, requestHash: requestHash, on: sql) {
                    return stored
                }
                try await Self.remember(response, principal: principal, key: key, requestHash: requestHash, at: recordedAt, on: sql)
                return response
            })
        }
    }

    static func storedResponse(principal: String, key: String, requestHash: String, on sql: any SQLDatabase) async throws -> StoredResponse? {
        guard let row = try await sql.raw("""
            SELECT request_hash, status, body FROM idempotency_keys
            WHERE principal = \(bind: principal) AND idempotency_key = \(bind: key)
            """).first() else { return nil }
        guard try row.decode(column: "request_hash", as: String.self) == requestHash else {
            throw Rejection(.idempotencyKeyReuse, "Idempotency-Key \(key.prefix(40)) was used for a different request")
        }
        return StoredResponse(status: try row.decode(column: "status", as: Int.self), body: try row.decode(column: "body", as: String.self))
    }

    static func remember(_ response: StoredResponse, principal: String, key: String, requestHash: String, at time: String, on sql: any SQLDatabase) async throws {
        try await sql.later("""
            INSERT INTO idempotency_keys (principal, idempotency_key, request_hash, status, body, created_at)
            VALUES (\(bind: principal), \(bind: key), \(bind: requestHash), \(bind: response.status), \(bind: response.body), \(bind: time))
            """)
    }
}
