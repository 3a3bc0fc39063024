import CreditsCore
@testable import CreditsServer
@testable import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// The findings of the hardening review, each by its ID, over a real socket where it is a
/// request and on the function itself where it is a rule of the edge.
@Suite("Hardening")
struct HardeningTests {
    @Test("H1: a name with a NUL byte is no name: after five failures, `customer\\0x` with the right password does not sign in")
    func h1NulNameDoesNotBypassTheThrottle() async throws {
        try await PortalTests.withPortal { api in
            for attempt in 1...SignInThrottle.failuresPerNameMax {
                #expect(try await api.signInReply("customer", "wrong \(attempt)").status == 401)
            }
            let forged = try await api.signInReply("customer\u{0}x", PortalTests.password)
            #expect(forged.status == 400)
            #expect(forged.body.contains("control character"))
            #expect(!forged.cookies.contains { $0.hasPrefix("credits_session=cds_") })
        }
    }

    @Test("H1: the store binds text with its length: `acme\\0x` is not acme")
    func h1StoreBindsWholeText() async throws {
        try await APIHarness.run { api in
            // SQLite: no customer of that code. PostgreSQL can't hold the byte: refused as text.
            let refusal = await #expect(throws: Rejection.self) { try await api.store.balances(of: "acme\u{0}x", today: APIHarness.today) }
            #expect(refusal?.code == .unknownCustomer || refusal?.code == .invalidText)
            guard api.store.database.engineName == "sqlite" else { return }
            let stored = try await api.store.database.read { sql in
                try await sql.raw("SELECT \(bind: "zz\u{0}x") AS text").first()!.decode(column: "text", as: String.self)
            }
            #expect(stored == "zz\u{0}x", "a NUL byte and what follows it come back from the database")
        }
    }

    @Test("M1: a finance read of `zz%00x`'s statement is refused and stores nothing for zz")
    func m1StatementOfTruncatedCode() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.get, "/v1/customers/acme%00x/statements/2026Q1", as: "finance")
            #expect(reply.status == 400)
            #expect(reply.problemType == "invalid-text")
            let stored = try await api.store.database.read { sql in try await sql.raw("SELECT COUNT(*) AS n FROM statements").first()! }
            #expect(try stored.decode(column: "n", as: Int.self) == 0)
        }
    }

    static let accepts: [String?] = [nil, "*/*", "application/json", "application/problem+json", "text/csv", "text/html"]

    @Test("X4: every error is its problem document whatever the client accepts", arguments: accepts)
    func x4ProblemsWhateverTheAccept(accept: String?) async throws {
        try await APIHarness.run { api in
            let refused = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 4),
                                             key: "x4-a", accept: accept)
            #expect(refused.status == 422)
            #expect(refused.problemType == "minimum-call-off")
            #expect(refused.contentType?.hasPrefix("application/problem+json") == true)
            let unknown = try await api.call(.get, "/v1/customers/nobody/balances", as: "operations", accept: accept)
            #expect(unknown.status == 404)
            #expect(unknown.problemType == "unknown-customer")
            _ = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 5), key: "x4-b")
            let reused = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 6),
                                            key: "x4-b", accept: accept)
            #expect(reused.status == 422)
            #expect(reused.problemType == "idempotency-key-reuse")
        }
    }

    @Test("an Idempotency-Key reaches the store as sent: `%41` and `A` are two keys; a key outside visible ASCII is 400")
    func idempotencyKeyAsSent() async throws {
        try await APIHarness.run { api in
            let first = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 5), key: "%41")
            let second = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 6), key: "A")
            #expect(first.status == 201 && second.status == 201, "\(second.body)")
            let spaced = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 5), key: "a b")
            #expect(spaced.status == 400)
        }
    }

    @Test("X4: a success the client can't accept is 406, not 500")
    func x4NotAcceptable() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.get, "/v1/customers/acme/balances", as: "operations", accept: "text/html")
            #expect(reply.status == 406)
            #expect(reply.problemType == "not-acceptable")
        }
    }

    @Test("X5: R11 over HTTP: a credit amount written 6.0, 1e0 or 6.5 is fractional-credits, and nothing is written",
          arguments: [#""credits":6.0"#, #""credits":1e0"#, #""credits":6.5"#, #""credits":6E0"#])
    func x5FractionalCallOff(credits: String) async throws {
        try await APIHarness.run { api in
            let before = try await api.store.ledger().count
            let body = APIHarness.callOffJSON(credits: 6).replacingOccurrences(of: #""credits":6"#, with: credits)
            let reply = try await api.call(.post, "/v1/call-offs", as: "operations", json: body, key: "x5")
            #expect(reply.status == 422)
            #expect(reply.problemType == "fractional-credits")
            #expect(try await api.store.ledger().count == before)
        }
    }

    @Test("X5: block sizes and counts written as decimals are fractional-credits too", arguments: [
        #"[{"size":10.0,"count":2}]"#, #"[{"size":10,"count":2.0}]"#, #"[{"size":1e1,"count":2}]"#,
    ])
    func x5FractionalOrder(blocks: String) async throws {
        try await APIHarness.run { api in
            let body = #"{"customer":"acme","program":"PSC","entity":"JN-DE","purchaseOrder":"PO-X5","blocks":"# + blocks + "}"
            let reply = try await api.call(.post, "/v1/orders", as: "operations", json: body, key: "x5-order")
            #expect(reply.status == 422)
            #expect(reply.problemType == "fractional-credits")
            let whole = try await api.call(.post, "/v1/orders", as: "operations", json: body.replacingOccurrences(of: ".0", with: "")
                .replacingOccurrences(of: "1e1", with: "10"), key: "x5-whole")
            #expect(whole.status == 201, "the same order written whole is placed")
        }
    }

    @Test("L1: only a same-origin path is followed after sign-in", arguments: [
        ("/\t/evil.example/", "/"), ("//evil.example", "/"), ("/\\evil.example", "/"), ("https://evil.example", "/"),
        ("/ /evil", "/"), ("/\n/evil", "/"), ("javascript:alert(1)", "/"), ("/customers/acme?x=1", "/customers/acme?x=1"),
        ("/customers/%09x", "/customers/%09x"), ("", "/"),
    ])
    func l1SafeNext(next: String, followed: String) {
        #expect(Portal.safeNext(next) == followed)
    }

    @Test("L2: each of \" ' < > & is escaped even when a combining mark follows it", arguments: ["\"", "'", "<", ">", "&"])
    func l2EscapeByScalar(character: String) {
        let text = character + "\u{301}"
        let escaped = ScalarHTMLEscaping().escapeText(text)
        #expect(!escaped.unicodeScalars.contains(character.unicodeScalars.first!) || character == "&")
        #expect(escaped.unicodeScalars.last == "\u{301}", "the mark stays, after the escape")
        #expect(escaped.hasPrefix("&"))
    }

    @Test("L2: a name reflected on the sign-in page can't leave its attribute")
    func l2ReflectedName() async throws {
        try await PortalTests.withPortal { api in
            let quote = "\"\u{301}"
            let name = "x" + quote + " autofocus onfocus=alert(1) >\u{301}<b>"
            let reply = try await api.signInReply(name, "wrong")
            #expect(reply.status == 401)
            let raw = quote + " autofocus"
            let escaped = "&quot;\u{301} autofocus"
            #expect(!reply.body.contains(raw))
            #expect(!reply.body.contains("<b>"))
            #expect(reply.body.contains(escaped))
        }
    }

    @Test("L3: a reader's GET of a quarter before the customer's first lot is 404 no-statement and stores nothing")
    func l3BeforeHistory() async throws {
        try await APIHarness.run { api in
            for quarter in ["1900Q1", "2025Q4"] {
                let reply = try await api.call(.get, "/v1/customers/acme/statements/\(quarter)", as: "customer")
                #expect(reply.status == 404, "\(quarter)")
                #expect(reply.problemType == "no-statement")
            }
            let stored = try await api.store.database.read { sql in try await sql.raw("SELECT COUNT(*) AS n FROM statements").first()! }
            #expect(try stored.decode(column: "n", as: Int.self) == 0)
        }
    }

    @Test("L3: a statement a reader asks for is issued by the desk, whose expiry entries name the desk, not the reader")
    func l3IssuedByTheDesk() async throws {
        try await APIHarness.run { api in
            _ = try await api.store.placeOrder(
                OrderRequest(customer: "globex", program: "PSC", entity: "JN-US", purchaseOrder: "PO-OLD", blocks: [BlockLine(size: 10, count: 1)]),
                today: CalendarDate("2024-10-01")!, actor: Actor(name: "seed", role: .operations))
            let reply = try await api.call(.get, "/v1/customers/globex/statements/2025Q4", as: "finance")
            #expect(reply.status == 200)
            let expiries = try await api.store.ledger(kind: .expiry)
            #expect(expiries.count == 1)
            let actors = expiries.map(\.entry.actor)
            #expect(actors == [Actor.desk.name])
        }
    }

    @Test("L6: API answers and downloads are not cached or sniffed")
    func l6Headers() async throws {
        try await APIHarness.run { api in
            let response = try await api.client.executeRequest(
                uri: "/v1/customers/acme/balances", method: .get,
                headers: [.authorization: "Bearer \(api.tokens["customer"]!)"], body: nil)
            #expect(response.headers[.init("X-Content-Type-Options")!] == "nosniff")
            #expect(response.headers[.cacheControl] == "no-store")
        }
    }

    @Test("L6: cookies are Secure over HTTPS: a public https URL, or a trusted proxy's X-Forwarded-Proto", arguments: [
        (String?.none, false, String?.none, false), (nil, false, "https", false), (nil, true, "https", true),
        (nil, true, "http", false), ("https://credits.example.com", false, nil, true), ("http://credits.example.com", true, nil, false),
    ])
    func l6SecureCookies(publicURL: String?, trustProxy: Bool, forwarded: String?, secure: Bool) {
        let settings = ServerSettings(publicURL: publicURL, trustProxy: trustProxy, today: { APIHarness.today })
        var headers = HTTPFields()
        if let forwarded { headers[.init("X-Forwarded-Proto")!] = forwarded }
        #expect(settings.reachedOverHTTPS(headers) == secure)
    }

    @Test("L7: /metrics needs a metrics or admin token", arguments: [
        (String?.none, 401), ("finance", 403), ("operations", 403), ("customer", 403), ("admin", 200),
    ])
    func l7Metrics(role: String?, status: Int) async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.get, "/metrics", as: role)
            #expect(reply.status == status)
        }
    }

    @Test("L7: a metrics token reads /metrics and nothing else")
    func l7MetricsRole() async throws {
        try await APIHarness.run { api in
            let token = try await api.store.createToken(principal: "prometheus", role: .metrics, customers: []).token
            let metrics = try await api.client.executeRequest(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"], body: nil)
            #expect(metrics.status == .ok)
            #expect(String(buffer: metrics.body).contains("credits_available"))
            let balances = try await api.client.executeRequest(uri: "/v1/customers/acme/balances", method: .get,
                                                               headers: [.authorization: "Bearer \(token)"], body: nil)
            #expect(balances.status == .notFound, "a metrics token sees no customer")
        }
    }

    @Test("L8: a portal form key sent again to another customer's form is a reused key, and that customer gets nothing")
    func l8KeyBindsThePath() async throws {
        try await PortalTests.withPortal { api in
            let session = try await api.signIn("operations", PortalTests.password)
            let form = ["csrf": session.csrf, "key": "same-key", "program": "PSC", "entity": "JN-DE", "purchaseOrder": "PO-L8", "blocks": "10x1"]
            #expect(try await api.page(.post, "/customers/acme/orders", session: session, form: form).status == 303)
            var other = form
            other["entity"] = "JN-US"
            let again = try await api.page(.post, "/customers/globex/orders", session: session, form: other)
            #expect(again.status == 422)
            #expect(again.body.contains("idempotency") || again.body.contains("key"))
            #expect(try await api.store.summary(of: "globex", today: APIHarness.today).lots.isEmpty)
        }
    }

    @Test("L5: a form field name with a NUL byte is a bad form (400), not a 500")
    func l5NulFormKey() async throws {
        try await PortalTests.withPortal { api in
            let session = try await api.signIn("operations", PortalTests.password)
            let reply = try await api.page(.post, "/customers/acme/orders", session: session,
                                           form: ["csrf": session.csrf, "pro\u{0}gram": "PSC"])
            #expect(reply.status == 400)
        }
    }

    @Test("L9: a PostgreSQL URL's password never reaches a message, parsed or not", arguments: [
        "postgres://desk:s3cret@db.example:5432/credits", "postgres://desk:s3cret@db example:99999/credits",
        "postgres://desk:s3c@ret@db.example/credits", "postgresql://desk:s3cret/x@db.example/credits",
    ])
    func l9Redacted(url: String) {
        let shown = DeskDatabase.redacted(url)
        #expect(!shown.contains("s3c"))
        #expect(!shown.contains("ret@"))
        #expect(shown.contains("desk:***@"))
    }

    @Test("bounds: a gate whose queue is full refuses the next caller at once as busy; once free it admits again")
    func boundedGate() async throws {
        let gate = AsyncGate(waitersMax: 0)
        try await gate.enter()
        await #expect(throws: StoreError.self) { try await gate.enter() }
        gate.leave()
        try await gate.enter()
        gate.leave()
    }
}
