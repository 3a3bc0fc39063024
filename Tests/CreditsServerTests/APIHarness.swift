import CreditsCore
import CreditsServer
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Synchronization
import Testing

/// A desk served over a real socket on a free port, with a token per role, on a scratch desk
/// (SQLite, or PostgreSQL with `CREDITS_TEST_DATABASE`). "Today" is pinned to 2026-03-15.
struct APIHarness {
    let store: DeskStore
    let client: any TestClientProtocol
    let tokens: [String: String]
    /// The server's monotonic clock (the sign-in throttle's): it stands still unless a test moves it.
    let clock: ManualClock

    static let today = CalendarDate("2026-03-15")!
    /// Roles as the tests name them: `customer` belongs to acme, `other-customer` to globex,
    /// `account-manager` is assigned acme.
    static let roles = ["admin", "operations", "account-manager", "customer", "other-customer", "finance"]

    struct Reply: Sendable {
        let status: Int
        let body: String
        let contentType: String?

        var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
        }
        var problemType: String? { json["type"] as? String }
    }

    static func run(_ body: @Sendable (APIHarness) async throws -> Void) async throws {
        let scratch = try await ScratchDesk.make()
        let store = DeskStore(database: scratch.database)
        do {
            let tokens = try await seed(store)
            var logger = Logger(label: "credits.test")
            logger.logLevel = .warning
            let clock = ManualClock()
            let settings = ServerSettings(port: 0, now: { clock.now }, today: { today })
            let app = try await buildApplication(store: store, settings: settings, logger: logger)
            try await app.test(.live) { client in
                try await body(APIHarness(store: store, client: client, tokens: tokens, clock: clock))
            }
        } catch {
            await scratch.discard()
            throw error
        }
        await scratch.discard()
    }

    /// Two entities, acme (JN-DE, 100 PSC in two lots) and globex (JN-US), one offering, tokens.
    static func seed(_ store: DeskStore) async throws -> [String: String] {
        let since = CalendarDate("2020-01-01")!
        try await store.addEntity(Entity(id: "JN-DE", name: "Vendor GmbH", currency: "EUR",
                                         prices: [ListPrice(program: "PSC", priceMinor: 140_000, effectiveOn: since)]))
        try await store.addEntity(Entity(id: "JN-US", name: "Vendor Inc", currency: "USD",
                                         prices: [ListPrice(program: "PSC", priceMinor: 150_000, effectiveOn: since)]))
        for (id, entity) in [("acme", "JN-DE"), ("globex", "JN-US")] {
            try await store.addCustomer(Customer(id: Customer.ID(id), name: id.capitalized, entity: Entity.ID(entity)))
        }
        try await store.addOffering(Offering(id: "assess", name: "Assessment", kind: .assessment, pricing: .fixedScope,
                                             credits: 10, deliverables: ["Report"], entities: ["JN-DE", "JN-US"]))
        let ops = Actor(name: "seed", role: .operations)
        for (po, day) in [("PO-A", "2026-01-10"), ("PO-B", "2026-02-10")] {
            _ = try await store.placeOrder(OrderRequest(customer: "acme", program: "PSC", entity: "JN-DE", purchaseOrder: po,
                                                        blocks: [BlockLine(size: 50, count: 1)]),
                                           today: CalendarDate(day)!, actor: ops)
        }
        var tokens: [String: String] = [:]
        let grants: [(String, Actor.Role, [Customer.ID])] = [
            ("admin", .admin, []), ("operations", .operations, []), ("account-manager", .accountManager, ["acme"]),
            ("customer", .customer, ["acme"]), ("other-customer", .customer, ["globex"]), ("finance", .finance, []),
        ]
        for (name, role, customers) in grants {
            tokens[name] = try await store.createToken(principal: name, role: role, customers: customers).token
        }
        return tokens
    }

    @discardableResult
    func call(
        _ method: HTTPRequest.Method, _ path: String, as role: String? = "admin", json: String? = nil,
        key: String? = nil, accept: String? = nil
    ) async throws -> Reply {
        var headers = HTTPFields()
        if let role, let token = tokens[role] { headers[.authorization] = "Bearer \(token)" }
        if json != nil { headers[.contentType] = "application/json" }
        if let key { headers[.init("Idempotency-Key")!] = key }
        if let accept { headers[.accept] = accept }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers,
                                                       body: json.map { ByteBuffer(string: $0) })
        return Reply(status: Int(response.status.code), body: String(buffer: response.body),
                     contentType: response.headers[.contentType])
    }

    /// The same call from `count` separate connections at once.
    func concurrently(_ count: Int, _ method: HTTPRequest.Method, _ path: String, as role: String = "operations",
                      json: @escaping @Sendable (Int) -> String, key: @escaping @Sendable (Int) -> String?) async throws -> [Reply] {
        let port = try #require(client.port)
        let token = tokens[role]!
        return try await withThrowingTaskGroup(of: Reply.self) { group in
            for index in 0..<count {
                group.addTask {
                    let connection = TestClient(host: "localhost", port: port, configuration: .init(timeout: .seconds(30)))
                    connection.connect()
                    var headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json"]
                    if let key = key(index) { headers[.init("Idempotency-Key")!] = key }
                    do {
                        let response = try await connection.execute(.init(path, method: method, headers: headers,
                                                                          body: ByteBuffer(string: json(index))))
                        try await connection.shutdown()
                        return Reply(status: Int(response.status.code), body: String(buffer: response.body ?? ByteBuffer()),
                                     contentType: response.headers[.contentType])
                    } catch {
                        try? await connection.shutdown()
                        throw error
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    static func callOffJSON(credits: Int, customer: String = "acme", plannedEnd: String = "2026-06-30") -> String {
        """
        {"customer":"\(customer)","program":"PSC","purchaseOrder":"PO-CO","sowReference":"SOW-1","sowSignedOn":"2026-03-01",
         "custom":{"title":"Fabric design","kind":"design","pricing":"fixed-scope","deliverables":["HLD"],"credits":\(credits)},
         "plannedEndOn":"\(plannedEnd)"}
        """
    }
}

/// A monotonic clock that moves only when told to.
final class ManualClock: Sendable {
    private let instant = Mutex(ContinuousClock.now)
    var now: ContinuousClock.Instant { instant.withLock { $0 } }
    func advance(_ duration: Duration) { instant.withLock { $0 += duration } }
}
