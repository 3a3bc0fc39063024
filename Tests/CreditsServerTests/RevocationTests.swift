import CreditsCore
@testable import CreditsServer
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Testing

/// Tokens and portal users can be revoked (hardening L4).
@Suite("Revocation")
struct RevocationTests {
    @Test("L4: a token revoked over the API is refused at once by this server, though it was just used")
    func l4RevokedTokenRefusedAtOnce() async throws {
        try await APIHarness.run { api in
            let created = try await api.call(.post, "/v1/tokens", json: #"{"principal":"robot","role":"finance"}"#)
            #expect(created.status == 201)
            let secret = try #require(created.json["token"] as? String)
            let id = try #require(created.json["id"] as? String)
            @Sendable func ledger(with token: String) async throws -> Int {
                Int(try await api.client.executeRequest(uri: "/v1/ledger", method: .get,
                                                        headers: [.authorization: "Bearer \(token)"], body: nil).status.code)
            }
            #expect(try await ledger(with: secret) == 200, "the new token works, and is now cached")
            let listed = try await api.call(.get, "/v1/tokens")
            #expect(listed.body.contains(id) && !listed.body.contains(secret), "listed by id, never by secret")
            let revoked = try await api.call(.post, "/v1/tokens/\(id)/revoke")
            #expect(revoked.status == 200)
            #expect(revoked.json["revokedAt"] is String)
            #expect(try await ledger(with: secret) == 401)
            #expect(try await api.call(.post, "/v1/tokens/\(id)/revoke").status == 200, "revoking again changes nothing")
        }
    }

    @Test("L4: a token expires on its date, by the store's clock")
    func l4TokenExpiry() async throws {
        let scratch = try await ScratchDesk.make()
        do {
            let noon = ISO8601DateFormatter().date(from: "2026-03-15T12:00:00Z")!
            let before = DeskStore(database: scratch.database, now: { noon })
            let issued = try await before.createToken(principal: "temp", role: .finance, customers: [],
                                                      expiresOn: CalendarDate("2026-03-16")!)
            #expect(try await before.authenticate(token: issued.token) != nil)
            let onTheDay = DeskStore(database: scratch.database, now: { noon.addingTimeInterval(12 * 3600) })
            #expect(try await onTheDay.authenticate(token: issued.token) == nil, "not valid on its expiry date")
            await #expect(throws: Rejection.self) {
                _ = try await before.createToken(principal: "temp", role: .finance, customers: [], expiresOn: CalendarDate("2026-03-15")!)
            }
        } catch {
            await scratch.discard()
            throw error
        }
        await scratch.discard()
    }

    @Test("L4: disabling a user ends its session at once; a password reset ends the old sessions and enables it again")
    func l4DisableAndReset() async throws {
        try await PortalTests.withPortal { api in
            let session = try await api.signIn("customer", PortalTests.password)
            #expect(try await api.page(.get, "/customers/acme", session: session).status == 200)
            let users = try await api.call(.get, "/v1/users")
            #expect(users.body.contains(#""sessions":1"#))
            #expect(try await api.call(.post, "/v1/users/customer/disable").status == 204)
            #expect(try await api.page(.get, "/customers/acme", session: session).status == 303, "sent to sign in")
            #expect(try await api.signInReply("customer", PortalTests.password).status == 401)
            let reset = try await api.call(.post, "/v1/users/customer/password", json: #"{"password":"a brand new password"}"#)
            #expect(reset.status == 204)
            #expect(try await api.signInReply("customer", PortalTests.password).status == 401, "the old password is gone")
            let again = try await api.signIn("customer", "a brand new password")
            #expect(try await api.page(.get, "/customers/acme", session: again).status == 200)
            #expect(try await api.call(.delete, "/v1/users/customer").status == 204)
            #expect(try await api.page(.get, "/customers/acme", session: again).status == 303)
            #expect(try await api.call(.delete, "/v1/users/customer").problemType == "unknown-user")
        }
    }
}
