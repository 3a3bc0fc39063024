import CreditsCore
@testable import CreditsServer
import CreditsStore
import Foundation
import HTTPTypes
import Testing

/// H1's property: every C0 control character, DEL, a lone surrogate and an over-long string, put
/// in every string field of every operation (the API's bodies, paths and queries, the portal's
/// forms), is refused with a 4xx, never a 5xx, and nothing is written; `verify` stays clean. Runs
/// on SQLite and, with CREDITS_TEST_DATABASE, on PostgreSQL.
@Suite("Control characters in every string field")
struct ControlCharacterPropertyTests {
    /// A bad value as it is written into JSON (escaped), and as a form or path carries it.
    struct BadText: Sendable {
        let json: String
        let form: String?
        let label: String
    }

    static let badTexts: [BadText] = {
        var texts = (0x00..<0x20).map { code in
            BadText(json: String(format: "\\u%04X", code), form: String(UnicodeScalar(UInt8(code))), label: String(format: "U+%04X", code))
        }
        texts.append(BadText(json: "\\u007F", form: "\u{7F}", label: "DEL"))
        // A lone surrogate can only be written in JSON; a form's percent-decoding refuses its bytes.
        texts.append(BadText(json: "\\uD800", form: nil, label: "lone surrogate"))
        texts.append(BadText(json: String(repeating: "x", count: 5_000), form: String(repeating: "x", count: 5_000), label: "5,000 characters"))
        return texts
    }()

    /// The API's writes and reads, each valid as written, with every string value marked `«»`
    /// where a bad value is put in turn (the original value is kept beside the mark).
    static let apiRequests: [(HTTPRequest.Method, String, String?)] = [
        (.post, "/v1/orders", #"{"customer":"«acme»","program":"«PSC»","entity":"«JN-DE»","purchaseOrder":"«PO-P»","blocks":[{"size":10,"count":1}]}"#),
        (.post, "/v1/call-offs", #"{"customer":"«acme»","program":"«PSC»","purchaseOrder":"«PO-C»","sowReference":"«SOW-1»","sowSignedOn":"«2026-03-01»","custom":{"title":"«Fabric design»","kind":"«design»","pricing":"«fixed-scope»","deliverables":["«HLD»"],"credits":5},"plannedEndOn":"«2026-06-30»"}"#),
        (.post, "/v1/call-offs", #"{"customer":"acme","program":"PSC","purchaseOrder":"PO-O","sowReference":"SOW-2","sowSignedOn":"2026-03-01","offering":"«assess»","plannedEndOn":"2026-06-30"}"#),
        (.post, "/v1/adjustments", #"{"customer":"«acme»","lot":1,"credits":-1,"reason":"«correction»"}"#),
        (.post, "/v1/adjustments", #"{"customer":"acme","program":"«PSC»","credits":1,"reason":"grant","expiresOn":"«2026-12-31»"}"#),
        (.post, "/v1/entities", #"{"id":"«E-1»","name":"«Entity»","currency":"«EUR»","prices":[{"program":"«PSC»","priceMinor":1000,"effectiveOn":"«2026-01-01»"}]}"#),
        (.post, "/v1/entities/«JN-DE»/prices", #"{"program":"«PSC»","priceMinor":140000,"effectiveOn":"«2027-01-01»"}"#),
        (.post, "/v1/offerings", #"{"id":"«o-1»","name":"«Offer»","kind":"«design»","pricing":"«fixed-scope»","credits":10,"deliverables":["«D»"],"entities":["«JN-DE»"]}"#),
        (.post, "/v1/customers", #"{"id":"«c-1»","name":"«Customer»","entity":"«JN-DE»"}"#),
        (.post, "/v1/engagements/1/«cancel»", #"{"reason":"«stopped»"}"#),
        (.post, "/v1/statement-runs", #"{"quarter":"«2025Q4»"}"#),
        (.post, "/v1/tokens", #"{"principal":"«robot»","role":"«finance»","customers":[],"expiresOn":"«2099-01-01»"}"#),
        (.post, "/v1/users/«operations»/password", #"{"password":"«a long new password»"}"#),
        (.get, "/v1/customers/«acme»", nil),
        (.get, "/v1/customers/«acme»/balances", nil),
        (.get, "/v1/customers/«acme»/statements/«2026Q1»", nil),
        (.get, "/v1/ledger?customer=«acme»", nil),
        (.get, "/v1/expiring?customer=«acme»", nil),
    ]

    /// Every variant of a template: one marked value replaced by `bad`, the others as written.
    static func variants(of template: String, with bad: (Substring, Bool) -> String) -> [String] {
        let marks = template.ranges(of: /«[^»]*»/)
        return marks.indices.map { chosen in
            var text = ""
            var last = template.startIndex
            for (index, range) in marks.enumerated() {
                text += template[last..<range.lowerBound]
                let original = template[template.index(after: range.lowerBound)..<template.index(before: range.upperBound)]
                text += index == chosen ? bad(original, true) : String(original)
                last = range.upperBound
            }
            return text + template[last...]
        }
    }

    /// What must not change: the ledger, the catalog, the tokens and users.
    static func snapshot(_ store: DeskStore) async throws -> String {
        let ledger = try await store.ledger().count
        let entities = try await store.entities().map { "\($0.id)\($0.prices.count)" }
        let customers = try await store.customers().count
        let offerings = try await store.offerings().count
        let tokens = try await store.tokens().map { "\($0.id)\($0.revokedAt ?? "")" }
        let users = try await store.users().map(\.name)
        return "\(ledger) \(entities) \(customers) \(offerings) \(tokens) \(users)"
    }

    @Test("H1: every bad text in every API string field is a 4xx, nothing is written, verify is clean")
    func h1EveryAPIField() async throws {
        try await PortalTests.withPortal { api in
            #expect(try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 5)).status == 201)
            let before = try await Self.snapshot(api.store)
            var sent = 0
            for (method, template, body) in Self.apiRequests {
                for bad in Self.badTexts {
                    let inPath = Self.variants(of: template) { _, _ in FormData.encode(bad.form ?? "\u{1}") }
                    for path in inPath {
                        let reply = try await api.call(method, path, json: body.map { $0.replacingOccurrences(of: "«", with: "").replacingOccurrences(of: "»", with: "") }, key: "bad-\(sent)")
                        sent += 1
                        #expect((400..<500).contains(reply.status), "\(method) \(path) with \(bad.label): \(reply.status) \(reply.body.prefix(160))")
                    }
                    for json in body.map({ Self.variants(of: $0) { _, _ in bad.json } }) ?? [] {
                        let path = template.replacingOccurrences(of: "«", with: "").replacingOccurrences(of: "»", with: "")
                        let reply = try await api.call(method, path, json: json, key: "bad-\(sent)")
                        sent += 1
                        #expect((400..<500).contains(reply.status), "\(method) \(path) \(json.prefix(120)) with \(bad.label): \(reply.status) \(reply.body.prefix(160))")
                    }
                }
            }
            #expect(sent > 1_500, "every field of every request was tried (\(sent) requests)")
            #expect(try await Self.snapshot(api.store) == before)
            #expect(try await api.store.verify().isClean)
        }
    }

    /// The portal's forms, each with the fields a visitor fills in.
    static let forms: [(String, [String: String])] = [
        ("/customers/acme/orders", ["program": "PSC", "entity": "JN-DE", "purchaseOrder": "PO-F", "blocks": "10x1"]),
        ("/customers/acme/call-offs", ["program": "PSC", "purchaseOrder": "PO-F", "sowReference": "SOW-F", "sowSignedOn": "2026-03-01",
                                       "kind": "design", "title": "Design", "deliverables": "HLD", "credits": "5", "plannedEndOn": "2026-06-30"]),
        ("/customers/acme/call-offs", ["program": "PSC", "purchaseOrder": "PO-G", "sowReference": "SOW-G", "sowSignedOn": "2026-03-01",
                                       "offering": "assess", "plannedEndOn": "2026-06-30"]),
        ("/customers/acme/adjustments", ["lot": "1", "credits": "-1", "reason": "correction"]),
        ("/customers/acme/adjustments", ["program": "PSC", "credits": "1", "reason": "grant", "expiresOn": "2026-12-31"]),
        ("/engagements/1/cancel", ["reason": "stopped"]),
        ("/desk/expiry", ["asOf": "2026-03-15"]),
        ("/desk/statements", ["quarter": "2025Q4"]),
    ]

    @Test("H1: every bad text in every portal form field is a 4xx with a message, and nothing is written")
    func h1EveryFormField() async throws {
        try await PortalTests.withPortal { api in
            #expect(try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 5)).status == 201)
            let session = try await api.signIn("operations", PortalTests.password)
            let before = try await Self.snapshot(api.store)
            var sent = 0
            for (path, fields) in Self.forms {
                for (name, _) in fields {
                    for bad in Self.badTexts {
                        guard let value = bad.form else { continue }
                        // Line breaks are what a list of deliverables is made of.
                        if name == "deliverables", value == "\n" || value == "\r" { continue }
                        var form = fields
                        form[name] = "a" + value + "b"
                        form["csrf"] = session.csrf
                        form["key"] = "form-\(sent)"
                        let reply = try await api.page(.post, path, session: session, form: form)
                        sent += 1
                        #expect((400..<500).contains(reply.status), "\(path) \(name) with \(bad.label): \(reply.status)")
                    }
                }
                // The sign-in form too: no session is made, and no 5xx.
            }
            for bad in Self.badTexts {
                guard let value = bad.form else { continue }
                let reply = try await api.signInReply("operations" + value, PortalTests.password)
                #expect((400..<500).contains(reply.status), "sign-in with \(bad.label): \(reply.status)")
                #expect(!reply.cookies.contains { $0.hasPrefix("credits_session=cds_") })
            }
            #expect(sent > 500, "every field of every form was tried (\(sent) posts)")
            #expect(try await Self.snapshot(api.store) == before)
            #expect(try await api.store.verify().isClean)
        }
    }
}
