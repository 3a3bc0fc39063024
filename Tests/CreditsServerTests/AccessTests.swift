import Foundation
import HTTPTypes
import Testing

/// Who may do what, route by route. `ok` means the role gets past authorization (the request
/// itself may still be refused by a rule with 409/422); `forbidden` is 403; `hidden` is 404,
/// what a caller gets for a customer it may not see.
@Suite("Roles × routes")
struct AccessTests {
    enum Expect: String { case ok, forbidden, hidden }

    struct Route: Sendable {
        let method: HTTPRequest.Method
        let path: String
        let json: (@Sendable (String) -> String)?
        /// Expectation per role, in `APIHarness.roles` order:
        /// admin, operations, account-manager, customer, other-customer, finance.
        let expect: [Expect]
    }

    static let everyone: [Expect] = [.ok, .ok, .ok, .ok, .ok, .ok]
    static let acmeReaders: [Expect] = [.ok, .ok, .ok, .ok, .hidden, .ok]
    static let acmeActors: [Expect] = [.ok, .ok, .ok, .forbidden, .hidden, .forbidden]
    static let adminOnly: [Expect] = [.ok, .forbidden, .forbidden, .forbidden, .forbidden, .forbidden]
    static let vendorOperations: [Expect] = [.ok, .ok, .forbidden, .forbidden, .forbidden, .forbidden]
    static let deskReaders: [Expect] = [.ok, .ok, .forbidden, .forbidden, .forbidden, .ok]

    static let routes: [Route] = [
        Route(method: .get, path: "/v1/programs", json: nil, expect: everyone),
        Route(method: .get, path: "/v1/entities", json: nil, expect: everyone),
        Route(method: .post, path: "/v1/entities", json: { #"{"id":"E-\#($0)","name":"E","currency":"EUR"}"# }, expect: adminOnly),
        Route(method: .post, path: "/v1/entities/JN-DE/prices", json: { _ in #"{"program":"PSC","priceMinor":140000,"effectiveOn":"2020-01-01"}"# }, expect: adminOnly),
        Route(method: .get, path: "/v1/offerings", json: nil, expect: everyone),
        Route(method: .post, path: "/v1/offerings", json: { #"{"id":"o-\#($0)","name":"O","kind":"design","pricing":"fixed-scope","credits":10,"deliverables":["D"],"entities":["JN-DE"]}"# }, expect: adminOnly),
        Route(method: .get, path: "/v1/customers", json: nil, expect: everyone),
        Route(method: .post, path: "/v1/customers", json: { #"{"id":"c-\#($0)","name":"C","entity":"JN-DE"}"# }, expect: vendorOperations),
        Route(method: .get, path: "/v1/customers/acme", json: nil, expect: acmeReaders),
        Route(method: .get, path: "/v1/customers/acme/balances", json: nil, expect: acmeReaders),
        Route(method: .get, path: "/v1/customers/acme/lots", json: nil, expect: acmeReaders),
        Route(method: .get, path: "/v1/customers/acme/statements/2026Q1", json: nil, expect: acmeReaders),
        Route(method: .post, path: "/v1/orders", json: { #"{"customer":"acme","program":"PSC","entity":"JN-DE","purchaseOrder":"PO-\#($0)","blocks":[{"size":10,"count":1}]}"# }, expect: acmeActors),
        Route(method: .post, path: "/v1/call-offs", json: { _ in APIHarness.callOffJSON(credits: 5) }, expect: acmeActors),
        Route(method: .get, path: "/v1/engagements/1", json: nil, expect: acmeReaders),
        Route(method: .post, path: "/v1/engagements/1/start", json: nil, expect: acmeActors),
        Route(method: .post, path: "/v1/adjustments", json: { _ in #"{"customer":"acme","lot":1,"credits":-1,"reason":"correction"}"# }, expect: [.ok, .ok, .forbidden, .forbidden, .hidden, .forbidden]),
        Route(method: .post, path: "/v1/expiry-runs", json: nil, expect: vendorOperations),
        Route(method: .post, path: "/v1/statement-runs", json: { _ in #"{"quarter":"2025Q4"}"# }, expect: vendorOperations),
        Route(method: .get, path: "/v1/expiring", json: nil, expect: everyone),
        Route(method: .get, path: "/v1/expiring?customer=acme", json: nil, expect: acmeReaders),
        Route(method: .get, path: "/v1/ledger", json: nil, expect: deskReaders),
        Route(method: .get, path: "/v1/ledger?customer=acme", json: nil, expect: acmeReaders),
        Route(method: .get, path: "/v1/verification", json: nil, expect: deskReaders),
        Route(method: .get, path: "/v1/tokens", json: nil, expect: adminOnly),
        Route(method: .post, path: "/v1/tokens", json: { #"{"principal":"p-\#($0)","role":"finance"}"# }, expect: adminOnly),
        Route(method: .post, path: "/v1/tokens/0123456789ab/revoke", json: nil, expect: unknownToAdmin),
        Route(method: .get, path: "/v1/users", json: nil, expect: adminOnly),
        Route(method: .post, path: "/v1/users/nobody/disable", json: nil, expect: unknownToAdmin),
        Route(method: .post, path: "/v1/users/nobody/password", json: { _ in #"{"password":"a long new password"}"# }, expect: unknownToAdmin),
        Route(method: .delete, path: "/v1/users/nobody", json: nil, expect: unknownToAdmin),
    ]
    /// An admin route about something that doesn't exist: 404 for the admin, 403 for the rest.
    static let unknownToAdmin: [Expect] = [.hidden, .forbidden, .forbidden, .forbidden, .forbidden, .forbidden]

    @Test("every route for every role: allowed, forbidden, or not there; without a token, 401")
    func matrix() async throws {
        try await APIHarness.run { api in
            // Engagement 1 belongs to acme, for the engagement routes.
            #expect(try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 5)).status == 201)
            for route in Self.routes {
                for (index, role) in APIHarness.roles.enumerated() {
                    let reply = try await api.call(route.method, route.path, as: role, json: route.json?("\(role)-\(index)"))
                    let expected = route.expect[index]
                    let got: Expect = switch reply.status {
                    case 403: .forbidden
                    case 404: .hidden
                    default: .ok
                    }
                    #expect(got == expected, "\(role) \(route.method) \(route.path): \(reply.status) \(reply.body.prefix(200))")
                    #expect(reply.status != 401 && reply.status < 500, "\(role) \(route.method) \(route.path): \(reply.status)")
                }
                let anonymous = try await api.call(route.method, route.path, as: nil, json: route.json?("anonymous"))
                #expect(anonymous.status == 401, "anonymous \(route.path): \(anonymous.status)")
            }
        }
    }

    @Test("lists show a customer user only its own customer and lots")
    func listsAreScoped() async throws {
        try await APIHarness.run { api in
            let customers = try await api.call(.get, "/v1/customers", as: "other-customer")
            #expect(customers.body.contains("globex") && !customers.body.contains("acme"))
            let expiring = try await api.call(.get, "/v1/expiring?within=3000", as: "other-customer")
            #expect(expiring.status == 200 && !expiring.body.contains("acme"))
            let mine = try await api.call(.get, "/v1/expiring?within=3000", as: "customer")
            #expect(mine.body.contains("acme"))
        }
    }

    @Test("a customer's write for another customer changes nothing")
    func crossCustomerWriteChangesNothing() async throws {
        try await APIHarness.run { api in
            let before = try await api.store.ledger()
            let reply = try await api.call(.post, "/v1/call-offs", as: "other-customer", json: APIHarness.callOffJSON(credits: 5))
            #expect(reply.status == 404 && reply.problemType == "unknown-customer")
            #expect(try await api.store.ledger() == before)
        }
    }
}
