import CreditsCore
import CreditsStore
import Crypto
import Foundation
import OpenAPIRuntime
import SQLKit

/// A request the caller's role doesn't allow.
struct Forbidden: Error {
    let detail: String
}

/// The API: each handler checks the caller's permission, turns the generated input into a core
/// request, lets the store decide and write, and turns the result back. No rule is checked here.
struct DeskAPI: APIProtocol {
    let store: DeskStore
    let today: @Sendable () -> CalendarDate
    let metrics: DeskMetrics
    /// Principals of recent tokens; emptied when a token is revoked here.
    let tokens: TokenCache

    typealias ProblemCase<Output> = (Int, Components.Responses.Problem) -> Output

    func principal() throws -> Principal {
        guard let principal = Caller.principal else { throw Forbidden(detail: "no authenticated caller") }
        return principal
    }

    /// The caller, if it may do `action`. A customer the caller can't see doesn't exist for it.
    @discardableResult
    func authorize(_ action: Principal.Action) throws -> Principal {
        try principal().authorize(action)
    }

    /// Runs a handler body, answering refusals with their problem document.
    func respond<Output>(_ problem: ProblemCase<Output>, _ body: () async throws -> Output) async throws -> Output {
        do {
            return try await body()
        } catch let rejection as Rejection {
            return Self.answer(ProblemBody(rejection: rejection), problem)
        } catch let forbidden as Forbidden {
            return Self.answer(ProblemBody(.forbidden, status: 403, detail: forbidden.detail), problem)
        }
    }

    static func answer<Output>(_ body: ProblemBody, _ problem: ProblemCase<Output>) -> Output {
        let schema: Components.Schemas.Problem
        do {
            schema = try Wire.convert(body)
        } catch {
            preconditionFailure("problem documents always match the spec: \(error)")
        }
        return problem(body.status, .init(body: .applicationProblemJson(schema)))
    }

    /// A write, done at most once per Idempotency-Key (see `DeskStore.idempotentWrite`). A value
    /// just written becomes its API type through `view`; a stored answer is decoded from its JSON.
    /// `perform` may run more than once before the write is answered (`BatchWriter`), so anything
    /// besides its statements goes in `written`, which runs once the write is committed.
    func write<Output, Value: Encodable & Sendable, Body: Decodable>(
        _ operation: String, key: String?, request: some Encodable & Sendable, status: Int = 201,
        as body: Body.Type, problem: ProblemCase<Output>, success: (Body) -> Output,
        view: (Value) throws -> Body = { try Wire.convert($0) },
        written: (Value) -> Void = { _ in }, readingAhead ahead: ReadAhead = ReadAhead(),
        _ perform: @escaping @Sendable (any SQLDatabase, String, Actor) async throws -> Value
    ) async throws -> Output {
        let actor = try principal().actor
        let hash = Hex.string(SHA256.hash(data: Data((operation + "\n" + Wire.json(request)).utf8)))
        let outcome = try await store.idempotentWrite(
            principal: actor.name, key: key, requestHash: hash, readingAhead: ahead,
            refusal: { rejection in
                let problem = ProblemBody(rejection: rejection)
                return StoredResponse(status: problem.status, body: problem.json)
            },
            answer: { StoredResponse(status: status, body: Wire.json($0)) }
        ) { sql, recordedAt in
            try await perform(sql, recordedAt, actor)
        }
        switch outcome {
        case .written(let value):
            written(value)
            return success(try view(value))
        case .answered(let stored) where stored.status < 300:
            return success(try Wire.decode(Body.self, from: stored.body))
        case .answered(let stored):
            let schema = try Wire.decode(Components.Schemas.Problem.self, from: stored.body)
            return problem(stored.status, .init(body: .applicationProblemJson(schema)))
        }
    }

    static let pageSizeMax = 1_000

    /// The `limit` of a list: the spec says 1 to 1000, and the generated code doesn't check it.
    static func pageSize(_ limit: Int?) throws -> Int {
        guard let limit else { return 100 }
        guard (1...pageSizeMax).contains(limit) else {
            throw Rejection(.invalidInput, "limit must be from 1 to \(pageSizeMax), got \(limit)")
        }
        return limit
    }

    static func date(_ text: String?, field: String) throws -> CalendarDate? {
        guard let text else { return nil }
        return try CalendarDate.reading(text, field: field).get()
    }

    /// The spec's bound on a sequence-number cursor (2^53 - 1, what any JSON client can hold).
    static let cursorMax = 9_007_199_254_740_991

    static func cursor(_ after: Int?) throws -> Int {
        guard let after else { return 0 }
        guard (0...cursorMax).contains(after) else {
            throw Rejection(.invalidInput, "after must be from 0 to \(cursorMax), got \(after)")
        }
        return after
    }

    /// A code in a query parameter: the generated code doesn't check the spec's bounds there.
    static func code(_ text: String?, field: String) throws -> String? {
        guard let text else { return nil }
        if let problem = TextCheck.codeProblem(in: text, field: field) { throw problem }
        return text
    }

    static func requiredDate(_ text: String, field: String) throws -> CalendarDate {
        try date(text, field: field)!
    }
}
