import CreditsCore
import CreditsStore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIHummingbird
import OpenAPIRuntime

/// What `credits serve` runs, assembled in one place so tests run exactly the same thing.
public struct ServerSettings: Sendable {
    public var host: String
    public var port: Int
    /// Today's business date; tests and back-dated imports pin it.
    public var today: @Sendable () -> CalendarDate
    /// The address people reach the desk at (`--public-url`); an `https://` one marks cookies Secure.
    public var publicURL: String?
    /// Whether a proxy in front sets `X-Forwarded-Proto` (`--trust-proxy`); trusted only then,
    /// since any client can send the header.
    public var trustProxy: Bool
    /// The monotonic clock of the server's own timers (the sign-in throttle); tests move it.
    public var now: @Sendable () -> ContinuousClock.Instant
    /// A connection with no request for this long is closed; it also bounds how long a request's
    /// head may take to arrive (hardening M3).
    public var idleTimeout: Duration = .seconds(30)
    /// How long a request's body may take to arrive once its head has.
    public var bodyTimeout: Duration = .seconds(30)
    /// Connections open at once; past it the server stops accepting until one closes.
    public var connectionsMax = ServerSettings.defaultConnectionsMax

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String? = nil, trustProxy: Bool = false,
        now: @escaping @Sendable () -> ContinuousClock.Instant = { ContinuousClock.now },
        today: @escaping @Sendable () -> CalendarDate
    ) {
        self.now = now
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.trustProxy = trustProxy
        self.today = today
    }

    /// 1,024, or half the process's file limit if that is lower, so connections can't use up
    /// the descriptors the database and the log need.
    public static var defaultConnectionsMax: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1_024 }
        return max(16, min(1_024, Int(clamping: limit.rlim_cur) / 2))
    }

    /// Whether the visitor reached the desk over HTTPS, so cookies may be marked Secure (hardening L6).
    func reachedOverHTTPS(_ headers: HTTPFields) -> Bool {
        if publicURL?.lowercased().hasPrefix("https://") == true { return true }
        return trustProxy && headers[.init("X-Forwarded-Proto")!]?.lowercased() == "https"
    }
}

public func buildApplication(
    store: DeskStore, settings: ServerSettings, logger: Logger = Logger(label: "credits.server"),
    onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
) async throws -> some ApplicationProtocol {
    let router = try await buildRouter(store: store, settings: settings)
    let idleTimeout = TimeAmount.nanoseconds(Int64(settings.idleTimeout.components.seconds) * 1_000_000_000
        + settings.idleTimeout.components.attoseconds / 1_000_000_000)
    return Application(
        router: router,
        server: .http1(configuration: .init(idleTimeout: idleTimeout, httpDecoderConfiguration: .init(
            maxHeaderFieldSize: 8 * 1024, maxHeaderListSize: 32 * 1024, maxHeaderFieldCount: 100))),
        configuration: .init(address: .hostname(settings.host, port: settings.port), serverName: "credits",
                             availableConnectionsDelegate: .maximum(settings.connectionsMax, logger: logger)),
        onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? settings.port) },
        logger: logger)
}

public func buildRouter(store: DeskStore, settings: ServerSettings) async throws -> Router<DeskRequestContext> {
    let metrics = DeskMetrics()
    let router = Router(context: DeskRequestContext.self)
    router.add(middleware: GuardMiddleware(metrics: metrics))
    let tokens = TokenCache { token in try await store.authenticate(token: token) }
    router.add(middleware: AuthenticationMiddleware { token in try await tokens.principal(for: token) })
    router.add(middleware: RequestBodyMiddleware(bodyTimeout: settings.bodyTimeout))
    addOperationsRoutes(to: router, store: store, metrics: metrics)
    let api = DeskAPI(store: store, today: settings.today, metrics: metrics, tokens: tokens)
    // Compact JSON with sorted keys: pretty printing made every answer longer and its encoding
    // slower (JSON was 9% of a balance read's CPU), for readers who have `jq`.
    try api.registerHandlers(on: router, configuration: .init(jsonEncodingOptions: [.sortedKeys]),
                             middlewares: [ProblemAcceptMiddleware(), RawIdempotencyKeyMiddleware(), EmptyBodyMiddleware()])
    let portal = try await Portal(store: store, settings: settings)
    portal.addRoutes(to: router)
    return router
}

/// Liveness, readiness, metrics and the spec: unauthenticated, outside `/v1`.
func addOperationsRoutes(to router: Router<DeskRequestContext>, store: DeskStore, metrics: DeskMetrics) {
    router.get("/health") { _, _ in "ok\n" }
    router.get("/ready") { _, _ -> Response in
        do {
            try await store.ping()
            return Response(status: .ok, body: .init(byteBuffer: ByteBuffer(string: "ready\n")))
        } catch {
            return ProblemResponse.make(ProblemBody(.unavailable, status: 503, detail: "the database does not answer: \(error)"))
        }
    }
    router.get("/metrics") { _, _ -> Response in
        // Desk-wide totals are business figures: a `metrics` (or admin) token reads them (L7).
        guard let principal = Caller.principal else { return AuthenticationMiddleware<DeskRequestContext>.unauthorized() }
        guard principal.may(.readMetrics) else {
            return ProblemResponse.make(ProblemBody(.forbidden, status: 403, detail: "metrics are read with a metrics or admin token"))
        }
        let totals = (try? await store.creditTotals()) ?? [:]
        let text = metrics.render(gauges: [
            ("credits_available", "Credits free to call off, all customers.", totals["available"] ?? 0),
            ("credits_held", "Credits held by open engagements.", totals["held"] ?? 0),
            ("credits_consumed", "Credits spent by delivered engagements.", totals["delivery"] ?? 0),
            ("credits_expired", "Credits lost to expiry.", totals["expiry"] ?? 0),
        ])
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                        body: .init(byteBuffer: ByteBuffer(string: text)))
    }
    router.get("/openapi.yaml") { _, _ -> Response in
        Response(status: .ok, headers: [.contentType: "application/yaml"],
                 body: .init(byteBuffer: ByteBuffer(string: OpenAPIDocument.text)))
    }
}

enum OpenAPIDocument {
    /// Each path template of the spec (`/v1/customers/{customerId}`) with the methods it has.
    static let routes: [(segments: [Substring], methods: Set<String>)] = {
        var routes: [(segments: [Substring], methods: Set<String>)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                routes.append((line.dropFirst(2).dropLast().split(separator: "/"), []))
            } else if let method = ["get", "post", "put", "patch", "delete"].first(where: { line == "    \($0):" }), !routes.isEmpty {
                routes[routes.count - 1].methods.insert(method.uppercased())
            }
        }
        return routes
    }()

    /// The methods the spec gives `path`, or nil if no path of the spec matches it.
    static func methods(for path: String) -> Set<String>? {
        let segments = path.split(separator: "/")
        let matching = routes.filter { route in
            route.segments.count == segments.count
                && zip(route.segments, segments).allSatisfy { $0.first == "{" || $0 == $1 }
        }
        return matching.isEmpty ? nil : matching.reduce(into: Set<String>()) { $0.formUnion($1.methods) }
    }

    /// The contract, as shipped in the module's resources.
    static let text: String = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("openapi.yaml is missing from the CreditsServer resources") }
        return text
    }()
}

/// The request context of every route: Hummingbird's basic one, plus the client's address,
/// which the sign-in throttle counts by.
public struct DeskRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress
    }
}

extension ServerSettings {
    /// The client's address: the socket's peer, or behind a trusted proxy the address the proxy
    /// added last to `X-Forwarded-For` (earlier entries are the client's own words).
    func clientAddress(_ request: Request, context: DeskRequestContext) -> String {
        if trustProxy, let forwarded = request.headers[.init("X-Forwarded-For")!],
            let last = forwarded.split(separator: ",").last?.trimmingCharacters(in: .whitespaces), !last.isEmpty
        {
            return String(last.prefix(64))
        }
        return context.remoteAddress?.ipAddress ?? "unknown"
    }
}
