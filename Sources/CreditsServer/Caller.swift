import CreditsCore
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The authenticated principal of the request being handled. Set by `AuthenticationMiddleware`
/// for the task that runs the request, read by the API handlers.
enum Caller {
    @TaskLocal static var principal: Principal?
    /// The bearer token of the request, as the store names it (`DeskStore.tokenID(of:)`).
    @TaskLocal static var tokenID: String?
}

/// `Authorization: Bearer <token>` on every `/v1` route; the operations routes stay open.
struct AuthenticationMiddleware<Context: RequestContext>: RouterMiddleware {
    let authenticate: @Sendable (String) async throws -> Principal?

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.uri.path.hasPrefix("/v1/") || request.uri.path == "/metrics" else { return try await next(request, context) }
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer "),
            let principal = try await authenticate(String(header.dropFirst("Bearer ".count)))
        else {
            return Self.unauthorized()
        }
        let token = String(header.dropFirst("Bearer ".count))
        return try await Caller.$principal.withValue(principal) {
            try await Caller.$tokenID.withValue(DeskStore.tokenID(of: token)) { try await next(request, context) }
        }
    }

    static func unauthorized() -> Response {
        var response = ProblemResponse.make(
            ProblemBody(.unauthorized, status: 401, detail: "send Authorization: Bearer <token>; create one with `credits token create`"))
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}

enum ProblemResponse {
    static func make(_ problem: ProblemBody) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/problem+json"
        return Response(status: .init(code: problem.status), headers: headers,
                        body: .init(byteBuffer: ByteBuffer(string: problem.json)))
    }
}

/// Known tokens for a short while, so a request doesn't spend a database read on
/// authentication. Unknown tokens are always looked up (a flood of bad tokens can't fill it).
/// NB: a change to an account manager's customers reaches a running server within `ttl`.
final class TokenCache: Sendable {
    static let ttl: Duration = .seconds(30)
    static let entriesMax = 10_000

    private let lookup: @Sendable (String) async throws -> Principal?
    private let entries = Mutex<[String: (principal: Principal, until: ContinuousClock.Instant)]>([:])

    init(lookup: @escaping @Sendable (String) async throws -> Principal?) {
        self.lookup = lookup
    }

    /// Forgets every token, so the next request of each is looked up again: after a revocation,
    /// so this server refuses the revoked token at once.
    func forgetAll() {
        entries.withLock { $0.removeAll() }
    }

    func principal(for token: String) async throws -> Principal? {
        let now = ContinuousClock.now
        if let cached = entries.withLock({ $0[token] }), cached.until > now { return cached.principal }
        guard let principal = try await lookup(token) else { return nil }
        entries.withLock { entries in
            if entries.count >= Self.entriesMax { entries.removeAll(keepingCapacity: true) }
            entries[token] = (principal, now + Self.ttl)
        }
        return principal
    }
}
