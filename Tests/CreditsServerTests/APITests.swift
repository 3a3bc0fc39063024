import CreditsCore
import CreditsStore
import Foundation
import Testing

@Suite("HTTP API over a real socket")
struct APITests {
    /// Each row: a request and the status and problem type it must get. Run in order on one desk.
    static let cases: [(method: String, path: String, json: String?, status: Int, type: String?)] = [
        ("GET", "/v1/programs", nil, 200, nil),
        ("GET", "/v1/entities", nil, 200, nil),
        ("POST", "/v1/entities", #"{"id":"JN-FR","name":"Vendor SAS","currency":"EUR","prices":[{"program":"PSC","priceMinor":150000,"effectiveOn":"2026-01-01"}]}"#, 201, nil),
        ("POST", "/v1/entities", #"{"id":"JN-FR","name":"Again","currency":"EUR"}"#, 409, "already-exists"),
        ("POST", "/v1/entities", #"{"id":"JN-X","name":"X","currency":"euro"}"#, 400, "invalid-input"),
        // Found by fuzzing: a price for an unknown program, and two prices for one date, were 500s.
        ("POST", "/v1/entities", #"{"id":"JN-Y","name":"Y","currency":"EUR","prices":[{"program":"0","priceMinor":1,"effectiveOn":"2026-01-01"}]}"#, 404, "unknown-program"),
        ("POST", "/v1/entities", #"{"id":"JN-Y","name":"Y","currency":"EUR","prices":[{"program":"PSC","priceMinor":1,"effectiveOn":"2026-01-01"},{"program":"PSC","priceMinor":2,"effectiveOn":"2026-01-01"}]}"#, 400, "invalid-input"),
        ("POST", "/v1/entities/JN-FR/prices", #"{"program":"PSC","priceMinor":155000,"effectiveOn":"2026-07-01"}"#, 201, nil),
        ("POST", "/v1/entities/JN-FR/prices", #"{"program":"PSC","priceMinor":155000,"effectiveOn":"2026-02-30"}"#, 400, "invalid-date"),
        ("POST", "/v1/entities/NOPE/prices", #"{"program":"PSC","priceMinor":1,"effectiveOn":"2026-07-01"}"#, 404, "unknown-entity"),
        ("GET", "/v1/offerings", nil, 200, nil),
        ("POST", "/v1/offerings", #"{"id":"tm","name":"Resident engineer","kind":"deployment","pricing":"duration-based","credits":5,"deliverables":[],"entities":["JN-DE"]}"#, 201, nil),
        ("POST", "/v1/offerings", #"{"id":"fr-only","name":"FR migration","kind":"migration","pricing":"fixed-scope","credits":20,"deliverables":["Plan"],"entities":["JN-FR"]}"#, 201, nil),
        ("GET", "/v1/customers", nil, 200, nil),
        // Found by fuzzing: a negative limit crashed the server.
        ("GET", "/v1/customers?limit=-2190841990", nil, 400, "invalid-input"),
        ("GET", "/v1/customers?limit=0", nil, 400, "invalid-input"),
        ("GET", "/v1/ledger?limit=1001", nil, 400, "invalid-input"),
        ("POST", "/v1/customers", #"{"id":"bleu","name":"Bleu","entity":"JN-FR"}"#, 201, nil),
        ("POST", "/v1/customers", #"{"id":"vert","name":"Vert","entity":"NOPE"}"#, 404, "unknown-entity"),
        ("POST", "/v1/customers", #"{"id":"vert","name":"Vert","entity":"JN-FR","extra":1}"#, 400, "invalid-request"),
        ("GET", "/v1/customers/acme", nil, 200, nil),
        ("GET", "/v1/customers/nobody", nil, 404, "unknown-customer"),
        ("GET", "/v1/customers/acme/balances", nil, 200, nil),
        ("GET", "/v1/customers/acme/lots", nil, 200, nil),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-1","blocks":[{"size":10,"count":2}]}"#, 201, nil),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-1","blocks":[{"size":10,"count":2}]}"#, 409, "duplicate-po"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-2","blocks":[{"size":5,"count":2}]}"#, 422, "invalid-block-size"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-2","blocks":[{"size":1,"count":9}]}"#, 422, "minimum-order"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-DE","purchaseOrder":"PO-2","blocks":[{"size":10,"count":1}]}"#, 422, "wrong-entity"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-2","blocks":[{"size":10,"count":1}],"discountPercent":5}"#, 422, "discount-not-allowed"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"","blocks":[{"size":10,"count":1}]}"#, 422, "missing-po"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"XYZ","entity":"JN-FR","purchaseOrder":"PO-2","blocks":[{"size":10,"count":1}]}"#, 404, "unknown-program"),
        ("POST", "/v1/orders", #"{"customer":"bleu","program":"PSC","entity":"JN-FR","purchaseOrder":"PO-2","blocks":[{"size":10,"count":1.5}]}"#, 422, "fractional-credits"),
        ("POST", "/v1/call-offs", APIHarness.callOffJSON(credits: 12), 201, nil),
        ("POST", "/v1/call-offs", APIHarness.callOffJSON(credits: 4), 422, "minimum-call-off"),
        ("POST", "/v1/call-offs", APIHarness.callOffJSON(credits: 500), 422, "insufficient-credits"),
        ("POST", "/v1/call-offs", APIHarness.callOffJSON(credits: 10, plannedEnd: "2026-13-01"), 400, "invalid-date"),
        ("POST", "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"P","sowReference":"S","sowSignedOn":"2026-03-01","custom":{"title":"T","kind":"design","pricing":"fixed-scope","deliverables":["D"],"credits":7.5},"plannedEndOn":"2026-06-30"}"#, 422, "fractional-credits"),
        ("POST", "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"P","sowSignedOn":"2026-03-01","offering":"assess","plannedEndOn":"2026-06-30"}"#, 422, "missing-sow"),
        ("POST", "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"P","sowReference":"S","sowSignedOn":"2026-03-01","offering":"tm","plannedEndOn":"2026-06-30"}"#, 422, "duration-based-engagement"),
        ("POST", "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"P","sowReference":"S","sowSignedOn":"2026-03-01","offering":"fr-only","plannedEndOn":"2026-06-30"}"#, 422, "not-deliverable-in-entity"),
        ("POST", "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"P","sowReference":"S","sowSignedOn":"2026-03-01","offering":"assess","plannedEndOn":"2026-06-30"}"#, 201, nil),
        ("GET", "/v1/engagements/1", nil, 200, nil),
        ("GET", "/v1/engagements/999", nil, 404, "unknown-engagement"),
        ("POST", "/v1/engagements/1/deliver", nil, 422, "invalid-transition"),
        ("POST", "/v1/engagements/1/start", nil, 200, nil),
        ("POST", "/v1/engagements/1/deliver", nil, 200, nil),
        ("POST", "/v1/engagements/2/cancel", #"{"reason":"postponed"}"#, 200, nil),
        ("POST", "/v1/engagements/2/cancel", nil, 422, "invalid-transition"),
        ("POST", "/v1/engagements/1/finish", nil, 400, "invalid-request"),
        ("POST", "/v1/adjustments", #"{"customer":"acme","lot":1,"credits":-3,"reason":"duplicate line"}"#, 201, nil),
        ("POST", "/v1/adjustments", #"{"customer":"acme","lot":1,"credits":-3000,"reason":"too much"}"#, 422, "adjustment-exceeds-balance"),
        ("POST", "/v1/adjustments", #"{"customer":"acme","lot":1,"credits":5,"reason":""}"#, 422, "missing-reason"),
        ("POST", "/v1/adjustments", #"{"customer":"acme","lot":1,"credits":5,"reason":"goodwill"}"#, 201, nil),
        ("POST", "/v1/adjustments", #"{"customer":"acme","lot":1,"credits":-9223372036854775808,"reason":"x"}"#, 422, "invalid-credits"),
        ("POST", "/v1/expiry-runs", nil, 201, nil),
        ("GET", "/v1/expiring?within=400", nil, 200, nil),
        ("GET", "/v1/expiring?within=99999", nil, 400, "invalid-input"),
        ("GET", "/v1/customers/acme/statements/2026Q1", nil, 200, nil),
        ("GET", "/v1/customers/acme/statements/2026Q3", nil, 422, "quarter-not-started"),
        ("GET", "/v1/customers/acme/statements/2026Q9", nil, 400, "invalid-input"),
        ("POST", "/v1/statement-runs", #"{"quarter":"2025Q4"}"#, 201, nil),
        ("POST", "/v1/statement-runs", #"{"quarter":"2026Q1"}"#, 422, "quarter-not-started"),
        ("POST", "/v1/statement-runs", #"{"quarter":"2026Q7"}"#, 400, "invalid-input"),
        ("GET", "/v1/ledger?limit=2", nil, 200, nil),
        ("GET", "/v1/ledger?from=2026-02-30", nil, 400, "invalid-date"),
        ("GET", "/v1/verification", nil, 200, nil),
        ("GET", "/v1/nothing-here", nil, 404, "not-found"),
        ("POST", "/v1/call-offs", "{not json", 400, "invalid-request"),
        ("POST", "/v1/call-offs", #"{"customer":"acme"}"#, 400, "invalid-request"),
        ("POST", "/v1/call-offs", #"{"customer":5,"program":"PSC","plannedEndOn":"2026-06-30"}"#, 400, "invalid-request"),
    ]

    @Test("every endpoint: the happy path and each refusal with its problem type")
    func endpoints() async throws {
        try await APIHarness.run { api in
            for row in Self.cases {
                let reply = try await api.call(.init(rawValue: row.method)!, row.path, json: row.json)
                #expect(reply.status == row.status, "\(row.method) \(row.path) \(row.json ?? ""): \(reply.status) \(reply.body)")
                if let type = row.type {
                    #expect(reply.problemType == type, "\(row.path): \(reply.body)")
                    #expect(reply.contentType?.hasPrefix("application/problem+json") == true, "\(row.path): \(reply.contentType ?? "none")")
                    #expect((reply.json["detail"] as? String)?.isEmpty == false)
                }
            }
            let verified = try await api.store.verify()
            #expect(verified.isClean)
        }
    }

    @Test("a call-off's numbers: draws, balances, the acting principal on the ledger")
    func callOffNumbers() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.post, "/v1/call-offs", as: "account-manager", json: APIHarness.callOffJSON(credits: 60))
            #expect(reply.status == 201)
            let draws = reply.json["draws"] as? [[String: Int]]
            #expect(draws == [["lot": 1, "credits": 50], ["lot": 2, "credits": 10]])
            let balances = try await api.call(.get, "/v1/customers/acme/balances", as: "customer")
            #expect(balances.body.contains("\"creditsAvailable\":40") && balances.body.contains("\"creditsHeld\":60"), "\(balances.body)")
            let ledger = try await api.store.ledger(customer: "acme")
            #expect(ledger.filter { $0.entry.kind == .callOff }.map(\.entry.actor) == ["account-manager", "account-manager"])
        }
    }

    @Test("the ledger pages by sequence number and filters by customer and effective date")
    func ledgerPagingAndFilters() async throws {
        try await APIHarness.run { api in
            let february = try await api.call(.get, "/v1/ledger?from=2026-02-01&to=2026-02-28", as: "finance")
            let entries = february.json["entries"] as? [[String: Any]] ?? []
            #expect(entries.map { $0["effectiveOn"] as? String } == ["2026-02-10"])
            let first = try await api.call(.get, "/v1/ledger?limit=1", as: "finance")
            #expect(first.json["nextAfter"] as? Int == 1)
            let second = try await api.call(.get, "/v1/ledger?limit=1&after=1", as: "finance")
            #expect((second.json["entries"] as? [[String: Any]])?.first?["seq"] as? Int == 2)
            let globex = try await api.call(.get, "/v1/ledger?customer=globex", as: "finance")
            #expect((globex.json["entries"] as? [Any])?.isEmpty == true)
        }
    }

    @Test("insufficient credits says how many are available before which date")
    func insufficientDetail() async throws {
        try await APIHarness.run { api in
            let reply = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 101, plannedEnd: "2027-01-10"))
            #expect(reply.status == 422)
            #expect((reply.json["detail"] as? String) == "R12: 100 PSC credits available for an engagement ending by 2027-01-10, 101 requested")
            #expect(reply.json["retryable"] as? Bool == true)
        }
    }

    @Test("statements: JSON by default, CSV on request, the same after issue")
    func statements() async throws {
        try await APIHarness.run { api in
            let json = try await api.call(.get, "/v1/customers/acme/statements/2026Q1", as: "customer")
            #expect(json.status == 200 && json.json["provisional"] as? Bool == true)
            let csv = try await api.call(.get, "/v1/customers/acme/statements/2026Q1", as: "finance", accept: "text/csv")
            #expect(csv.status == 200 && csv.contentType?.hasPrefix("text/csv") == true)
            #expect(csv.body.contains("summary,PSC,purchased,2026-03-31,,100,"), "\(csv.body)")
        }
    }

    @Test("bodies are bounded: an oversized one gets 413 and changes nothing")
    func oversizedBody() async throws {
        try await APIHarness.run { api in
            let huge = #"{"customer":"acme","program":"PSC","purchaseOrder":""# + String(repeating: "x", count: 70_000) + #"","blocks":[]}"#
            let reply = try await api.call(.post, "/v1/orders", json: huge)
            #expect(reply.status == 413 && reply.problemType == "payload-too-large")
            #expect(try await api.store.ledger().count == 2)
        }
    }

    @Test("operations routes: health, readiness, metrics, the spec; /v1 needs a token")
    func operationsRoutes() async throws {
        try await APIHarness.run { api in
            #expect(try await api.call(.get, "/health", as: nil).status == 200)
            #expect(try await api.call(.get, "/ready", as: nil).status == 200)
            let spec = try await api.call(.get, "/openapi.yaml", as: nil)
            #expect(spec.status == 200 && spec.body.hasPrefix("openapi: 3.1.0"))
            let anonymous = try await api.call(.get, "/v1/programs", as: nil)
            #expect(anonymous.status == 401 && anonymous.problemType == "unauthorized")
            // The retry is answered from its key: one call-off made, and counted once.
            for _ in 0..<2 {
                let made = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 5), key: "metrics-1")
                #expect(made.status == 201)
            }
            let metrics = try await api.call(.get, "/metrics", as: "admin")
            #expect(metrics.body.contains(#"credits_http_requests_total{method="POST",route="/v1/call-offs",status="201"} 2"#), "\(metrics.body.prefix(600))")
            #expect(metrics.body.contains("credits_call_offs_total 1"))
            #expect(metrics.body.contains("credits_held 5"))
        }
    }
}
