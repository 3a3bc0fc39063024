import CreditsCore
@testable import CreditsServer
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Testing

/// The portal over a real socket: sign-in, sessions and CSRF, the role and customer binding of
/// every page, and forms that run the core's rules. The browser run (scripts/portal-browser)
/// drives the same pages in Chromium.
@Suite("Portal")
struct PortalTests {
    static let password = "correct horse battery"

    /// Users for the harness's principals (same names, so same roles and customers as their tokens).
    static func withPortal(_ body: @Sendable (APIHarness) async throws -> Void) async throws {
        try await APIHarness.run { api in
            try await api.store.createUser(name: "customer", role: .customer, customers: ["acme"], password: password)
            try await api.store.createUser(name: "operations", role: .operations, customers: [], password: password)
            try await body(api)
        }
    }

    @Test("a customer signs in and sees its own balance, the one the API gives")
    func customerSeesOwnBalance() async throws {
        try await Self.withPortal { api in
            let session = try await api.signIn("customer", Self.password)
            let home = try await api.page(.get, "/", session: session)
            #expect(home.status == 303)
            #expect(home.location == "/customers/acme")
            let dashboard = try await api.page(.get, "/customers/acme", session: session)
            #expect(dashboard.status == 200)
            #expect(dashboard.contentType == "text/html; charset=utf-8")
            let balances = try await api.call(.get, "/v1/customers/acme/balances", as: "customer")
            let psc = try #require((try JSONSerialization.jsonObject(with: Data(balances.body.utf8)) as? [[String: Any]])?
                .first { $0["program"] as? String == "PSC" })
            let available = try #require(psc["creditsAvailable"] as? Int)
            #expect(available == 100)
            #expect(dashboard.body.contains("<span data-test=\"available-PSC\">\(available)</span>"))
            #expect(dashboard.body.contains("<svg class=\"burn-down\""))
            #expect(!dashboard.body.contains("call-off-form"), "a customer gets no forms")
            #expect(!dashboard.body.contains("Globex"))
            #expect(!dashboard.body.contains("nil"), "an absent value shows nothing")
            #expect(!dashboard.body.contains("data-test=\"notice\""), "no notice without a finished form")
        }
    }

    @Test("customer A's session gets 404 for every page of customer B, and 403 or a redirect for vendor pages")
    func crossCustomerIsNotFound() async throws {
        try await Self.withPortal { api in
            let session = try await api.signIn("customer", Self.password)
            for path in ["/customers/globex", "/customers/globex/statements/2026Q1", "/customers/globex/statements/2026Q1/csv",
                         "/customers/globex/statements/2026Q1/json", "/customers/nobody"] {
                let reply = try await api.page(.get, path, session: session)
                #expect(reply.status == 404, "\(path)")
                #expect(reply.body.contains("Not found"), "\(path)")
            }
            let post = try await api.page(.post, "/customers/globex/call-offs", session: session,
                                          form: ["csrf": session.csrf, "program": "PSC", "credits": "5"])
            #expect(post.status == 404)
            #expect(try await api.page(.get, "/finance/ledger", session: session).status == 403)
            #expect(try await api.page(.get, "/customers", session: session).location == "/")
        }
    }

    @Test("signed-out visitors are sent to sign in; a wrong password or a missing CSRF token changes nothing")
    func signInAndCSRF() async throws {
        try await Self.withPortal { api in
            let away = try await api.page(.get, "/customers/acme", session: nil)
            #expect(away.status == 303)
            #expect(away.location == "/sign-in?next=/customers/acme")
            let wrong = try await api.signInReply("customer", "wrong password!")
            #expect(wrong.status == 401)
            #expect(wrong.body.contains("don&#39;t match") || wrong.body.contains("don't match"))
            let unknown = try await api.signInReply("nobody", Self.password)
            #expect(unknown.status == 401)

            let session = try await api.signIn("operations", Self.password)
            let before = try await api.store.ledger().count
            let forged = try await api.page(.post, "/customers/acme/orders", session: session,
                                            form: ["program": "PSC", "entity": "JN-DE", "purchaseOrder": "PO-X", "blocks": "10"])
            #expect(forged.status == 400)
            let wrongToken = try await api.page(.post, "/customers/acme/orders", session: session,
                                                form: ["csrf": String(repeating: "0", count: 64), "program": "PSC",
                                                       "entity": "JN-DE", "purchaseOrder": "PO-X", "blocks": "10"])
            #expect(wrongToken.status == 400)
            #expect(try await api.store.ledger().count == before)

            let out = try await api.page(.post, "/sign-out", session: session, form: ["csrf": session.csrf])
            #expect(out.status == 303)
            #expect(try await api.page(.get, "/customers/acme", session: session).status == 303, "the session is gone")
        }
    }

    @Test("five failed sign-ins for a name: the sixth is refused even with the right password; other names still sign in")
    func signInThrottled() async throws {
        try await Self.withPortal { api in
            for attempt in 1...SignInThrottle.failuresPerNameMax {
                #expect(try await api.signInReply("customer", "wrong password \(attempt)").status == 401, "attempt \(attempt)")
            }
            // The server's clock stands still (the harness's), so the wait is exact however slow bcrypt is.
            let refused = try await api.signInReply("customer", Self.password)
            #expect(refused.status == 429)
            #expect(refused.body.contains("Too many failed sign-ins for this name or from this address. Try again in 15 minutes."))
            #expect(refused.retryAfter == "900")
            #expect(!refused.cookies.contains { $0.hasPrefix("credits_session=") })
            _ = try await api.signIn("operations", Self.password)
        }
    }

    @Test("R4, R10: operations place an order and call off through forms; a 4-credit call-off shows the rule and keeps the input")
    func operationsForms() async throws {
        try await Self.withPortal { api in
            let session = try await api.signIn("operations", Self.password)
            let order: [String: String] = ["csrf": session.csrf, "key": "order-1", "program": "PSC", "entity": "JN-DE",
                                           "purchaseOrder": "PO-PORTAL", "blocks": "10x2"]
            let placed = try await api.page(.post, "/customers/acme/orders", session: session, form: order)
            #expect(placed.status == 303)
            #expect(placed.location?.hasPrefix("/customers/acme?done=order&ref=") == true)
            let again = try await api.page(.post, "/customers/acme/orders", session: session, form: order)
            #expect(again.location == placed.location, "the same form key has one effect")
            let balances = try await api.store.balances(of: "acme", today: APIHarness.today)
            #expect(balances.first { $0.program == "PSC" }?.creditsAvailable == 120)

            let small = try await api.page(.post, "/customers/acme/orders", session: session,
                                           form: ["csrf": session.csrf, "key": "order-2", "program": "PSC", "entity": "JN-DE",
                                                  "purchaseOrder": "PO-SMALL", "blocks": "1x9"])
            #expect(small.status == 422)
            #expect(small.body.contains("R4"))
            #expect(small.body.contains("value=\"1x9\""))

            let before = try await api.store.ledger().count
            var callOff: [String: String] = ["csrf": session.csrf, "key": "call-off-1", "program": "PSC", "title": "Wi-Fi survey",
                                             "kind": "assessment", "credits": "4", "deliverables": "Report",
                                             "purchaseOrder": "PO-CO-1", "sowReference": "SOW-9", "sowSignedOn": "2026-03-01",
                                             "plannedEndOn": "2026-05-31"]
            let refused = try await api.page(.post, "/customers/acme/call-offs", session: session, form: callOff)
            #expect(refused.status == 422)
            #expect(refused.body.contains("R10: a call-off of PSC is at least 5 credits; this one is 4"))
            #expect(refused.body.contains("value=\"Wi-Fi survey\""))
            #expect(try await api.store.ledger().count == before, "a refused form changes nothing")

            callOff["credits"] = "5"
            callOff["key"] = "call-off-2"
            let accepted = try await api.page(.post, "/customers/acme/call-offs", session: session, form: callOff)
            #expect(accepted.status == 303)
            let dashboard = try await api.page(.get, try #require(accepted.location), session: session)
            #expect(dashboard.body.contains("<span data-test=\"available-PSC\">115</span>"))
            #expect(dashboard.body.contains("<dd data-test=\"held-PSC\">5</dd>"))
            #expect(dashboard.body.contains("called off"))
        }
    }

    @Test("R13, R14, R17: engagement steps, adjustments and the desk's runs through forms, refusals shown with their rule")
    func engagementAndDeskForms() async throws {
        try await Self.withPortal { api in
            let session = try await api.signIn("operations", Self.password)
            func post(_ path: String, _ fields: [String: String]) async throws -> APIHarness.Page {
                try await api.page(.post, path, session: session, form: fields.merging(["csrf": session.csrf, "key": UUID().uuidString]) { $1 })
            }
            let called = try await post("/customers/acme/call-offs", [
                "program": "PSC", "offering": "assess", "purchaseOrder": "PO-E1", "sowReference": "SOW-E1",
                "sowSignedOn": "2026-03-01", "plannedEndOn": "2026-04-30"])
            #expect(called.status == 303)
            let id = try #require(called.location?.split(separator: "=").last.flatMap { Int($0) })
            #expect(try await post("/engagements/\(id)/start", [:]).location == "/customers/acme?done=start&ref=\(id)")
            #expect(try await post("/engagements/\(id)/deliver", [:]).status == 303)
            #expect(try await api.store.engagement(Engagement.ID(id)).status == .delivered)
            let again = try await post("/engagements/\(id)/cancel", ["reason": "too late"])
            #expect(again.status == 409 || again.status == 422)
            #expect(again.body.contains("R13"))
            #expect(try await post("/engagements/999/start", [:]).status == 404)

            let noReason = try await post("/customers/acme/adjustments", ["lot": "1", "credits": "-3"])
            #expect(noReason.body.contains("R17"))
            #expect(noReason.body.contains("value=\"-3\""))
            #expect(try await post("/customers/acme/adjustments", ["lot": "1", "credits": "-3", "reason": "double-counted"]).status == 303)
            #expect(try await api.store.balances(of: "acme", today: APIHarness.today).first { $0.program == "PSC" }?.creditsAvailable == 87)

            let future = try await post("/desk/expiry", ["asOf": "2026-03-16"])
            #expect(future.body.contains("after today"))
            #expect(try await post("/desk/expiry", ["asOf": "2026-03-15"]).location == "/customers?done=expiry&ref=0")
            let early = try await post("/desk/statements", ["quarter": "2026Q1"])
            #expect(early.body.contains("R14"))
            // Before either customer's first lot: nothing to state (L3), so nothing is issued.
            #expect(try await post("/desk/statements", ["quarter": "2025Q4"]).location == "/customers?done=statements&ref=0")
        }
    }

    @Test("an account manager's customer list holds only its customers; the others are 404")
    func accountManagerList() async throws {
        try await APIHarness.run { api in
            try await api.store.createUser(name: "account-manager", role: .accountManager, customers: ["acme"], password: Self.password)
            let session = try await api.signIn("account-manager", Self.password)
            let list = try await api.page(.get, "/customers", session: session)
            #expect(list.status == 200)
            #expect(list.body.contains("href=\"/customers/acme\""))
            #expect(!list.body.contains("globex"))
            #expect(try await api.page(.get, "/customers/globex", session: session).status == 404)
            #expect(try await api.page(.get, "/customers/acme", session: session).body.contains("call-off-form"))
        }
    }

    @Test("finance sees invoices and the ledger, and downloads it as CSV")
    func financePages() async throws {
        try await APIHarness.run { api in
            try await api.store.createUser(name: "finance", role: .finance, customers: [], password: Self.password)
            let session = try await api.signIn("finance", Self.password)
            let invoices = try await api.page(.get, "/finance/invoices?from=2026-01-01&to=2026-03-31&entity=JN-DE", session: session)
            #expect(invoices.status == 200)
            #expect(invoices.body.contains("2 invoices"))
            #expect(invoices.body.contains("70,000.00 EUR"), "50 credits at 1,400.00 EUR each")
            #expect(invoices.body.contains("Total 140,000.00 EUR"))
            let ledger = try await api.page(.get, "/finance/ledger/csv?customer=acme&kind=purchase", session: session)
            #expect(ledger.status == 200)
            let lines = ledger.body.split(separator: "\n")
            #expect(lines.count == 3)
            #expect(lines.dropFirst().allSatisfy { $0.contains(",purchase,acme,PSC,") })
            #expect(try await api.page(.post, "/customers/acme/orders", session: session,
                                       form: ["csrf": session.csrf, "program": "PSC", "entity": "JN-DE", "blocks": "10"]).status == 403)
        }
    }
}

extension APIHarness {
    struct Session: Sendable {
        let cookie: String
        var csrf: String { Visitor.csrfToken(for: String(cookie.split(separator: "=", maxSplits: 1)[1])) }
    }

    struct Page: Sendable {
        let status: Int
        let body: String
        let contentType: String?
        let location: String?
        let cookies: [String]
        var retryAfter: String? = nil
    }

    func page(_ method: HTTPRequest.Method, _ path: String, session: Session?, form: [String: String]? = nil,
              cookie: String? = nil) async throws -> Page {
        var headers = HTTPFields()
        let cookies = [session?.cookie, cookie].compactMap { $0 }
        if !cookies.isEmpty { headers[.cookie] = cookies.joined(separator: "; ") }
        var body: ByteBuffer?
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            body = ByteBuffer(string: form.map { "\($0.key)=\(FormData.encode($0.value))" }.joined(separator: "&"))
        }
        let response = try await client.executeRequest(uri: path, method: method, headers: headers, body: body)
        return Page(status: Int(response.status.code), body: String(buffer: response.body),
                    contentType: response.headers[.contentType], location: response.headers[.location],
                    cookies: response.headers[values: .setCookie], retryAfter: response.headers[.retryAfter])
    }

    func signInReply(_ name: String, _ password: String) async throws -> Page {
        let form = try await page(.get, "/sign-in", session: nil)
        let signInCookie = try #require(form.cookies.first { $0.hasPrefix("credits_signin=") }?.split(separator: ";").first)
        let token = String(signInCookie.split(separator: "=")[1])
        return try await page(.post, "/sign-in", session: nil, form: ["csrf": token, "name": name, "password": password],
                              cookie: String(signInCookie))
    }

    func signIn(_ name: String, _ password: String) async throws -> Session {
        let reply = try await signInReply(name, password)
        #expect(reply.status == 303)
        let cookie = try #require(reply.cookies.first { $0.hasPrefix("credits_session=cds_") }?.split(separator: ";").first)
        #expect(reply.cookies.contains { $0.contains("HttpOnly") && $0.contains("SameSite=Lax") })
        return Session(cookie: String(cookie))
    }
}

@Suite("JSON log lines")
struct JSONLogLineTests {
    @Test("a log line is one JSON object with sorted keys, escaped values and a UTC millisecond time")
    func line() throws {
        let text = JSONLogHandler.line(["message": "say \"hi\"\n\\ \u{1}", "b": "é", "a": "1"])
        #expect(text == "{\"a\":\"1\",\"b\":\"é\",\"message\":\"say \\\"hi\\\"\\n\\\\ \\u0001\"}\n")
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: String])
        #expect(parsed["message"] == "say \"hi\"\n\\ \u{1}")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 1_795_996_801.25)) == "2026-11-30T00:00:01.250Z")
        #expect(JSONLogHandler.timestamp(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
    }

    @Test("a request line is an error for a 5xx answer, so --log-level warning keeps it; info otherwise",
          arguments: [(200, Logger.Level.info), (404, .info), (499, .info), (500, .error), (503, .error)])
    func requestLineLevel(status: Int, level: Logger.Level) {
        #expect(GuardMiddleware<DeskRequestContext>.logLevel(status: status) == level)
    }
}

@Suite("Portal: addresses and forms out of the ordinary")
struct PortalEdgeTests {
    @Test("a form's address opened directly shows the page the form is on; an unknown page is the portal's 404")
    func formAddressesAndUnknownPages() async throws {
        try await PortalTests.withPortal { api in
            let session = try await api.signIn("operations", PortalTests.password)
            for form in ["orders", "call-offs", "adjustments"] {
                let reply = try await api.page(.get, "/customers/acme/\(form)", session: session)
                #expect(reply.status == 303 && reply.location == "/customers/acme", "\(form)")
            }
            for run in ["expiry", "statements"] {
                #expect(try await api.page(.get, "/desk/\(run)", session: session).location == "/customers", "\(run)")
            }
            let unknown = try await api.page(.get, "/no/such/page", session: session)
            #expect(unknown.status == 404 && unknown.body.contains("Not found"))
            #expect(unknown.contentType == "text/html; charset=utf-8")
        }
    }

    @Test("a form over its bounds (51 fields, or a value of 2,001 characters) gets 400 and changes nothing")
    func oversizedForms() async throws {
        try await PortalTests.withPortal { api in
            let session = try await api.signIn("operations", PortalTests.password)
            let before = try await api.store.ledger().count
            let callOff = ["csrf": session.csrf, "key": "edge-1", "program": "PSC", "title": "Wi-Fi survey",
                           "kind": "assessment", "credits": "5", "deliverables": "Report", "purchaseOrder": "PO-E",
                           "sowReference": "SOW-E", "sowSignedOn": "2026-03-01", "plannedEndOn": "2026-05-31"]
            var tooMany = callOff
            for extra in 0..<(51 - callOff.count) { tooMany["extra\(extra)"] = "x" }
            var tooLong = callOff
            tooLong["note"] = String(repeating: "a", count: 2_001)
            for (label, form) in [("51 fields", tooMany), ("2,001 characters", tooLong)] {
                let reply = try await api.page(.post, "/customers/acme/call-offs", session: session, form: form)
                #expect(reply.status == 400, "\(label)")
                #expect(reply.body.contains("This form has expired"), "\(label)")
            }
            #expect(try await api.store.ledger().count == before, "a refused form changes nothing")
            // At its bounds the same form is read, and the call-off made.
            var atBounds = callOff
            for extra in 0..<(49 - callOff.count) { atBounds["extra\(extra)"] = "x" }
            atBounds["note"] = String(repeating: "a", count: 2_000)
            #expect(atBounds.count == 50)
            let accepted = try await api.page(.post, "/customers/acme/call-offs", session: session, form: atBounds)
            #expect(accepted.status == 303)
            #expect(try await api.store.ledger().count == before + 1)
        }
    }
}
