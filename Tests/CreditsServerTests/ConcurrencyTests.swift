import CreditsCore
import Foundation
import Testing

@Suite("Idempotency and concurrency over HTTP")
struct ConcurrencyTests {
    @Test("the same call-off POSTed 20 times at once with one key: one engagement, one hold, 20 identical answers")
    func idempotentCallOff() async throws {
        try await APIHarness.run { api in
            let replies = try await api.concurrently(20, .post, "/v1/call-offs", json: { _ in APIHarness.callOffJSON(credits: 15) },
                                                     key: { _ in "retry-me" })
            #expect(replies.allSatisfy { $0.status == 201 }, "\(replies.map(\.status))")
            #expect(Set(replies.map(\.body)).count == 1)
            let holds = try await api.store.ledger().filter { $0.entry.kind == .callOff }
            #expect(holds.count == 1 && holds.first?.entry.creditsHeldDelta == 15)
            // The same key with another body is refused, and changes nothing.
            let reused = try await api.call(.post, "/v1/call-offs", as: "operations", json: APIHarness.callOffJSON(credits: 16), key: "retry-me")
            #expect(reused.status == 422 && reused.problemType == "idempotency-key-reuse")
            // And so is every one of many at once, which a batch reads with one statement.
            let reusedAtOnce = try await api.concurrently(10, .post, "/v1/call-offs", json: { _ in APIHarness.callOffJSON(credits: 16) },
                                                          key: { _ in "retry-me" })
            #expect(reusedAtOnce.allSatisfy { $0.status == 422 && $0.problemType == "idempotency-key-reuse" })
            #expect(try await api.store.ledger().filter { $0.entry.kind == .callOff }.count == 1)
            // Keys belong to their principal: another caller's same key is another request.
            let other = try await api.call(.post, "/v1/call-offs", as: "admin", json: APIHarness.callOffJSON(credits: 16), key: "retry-me")
            #expect(other.status == 201)
        }
    }

    /// A retry is answered by what its key stored, however the desk has changed since: the
    /// answer must not depend on whether the request would now pass.
    @Test("a retry with its key gets the first answer, whether it would now be refused, would pass again, or is another request")
    func retriesAgainstAChangedDesk() async throws {
        try await APIHarness.run { api in
            let big = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 60), key: "big")
            let small = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 5), key: "small")
            #expect(big.status == 201 && small.status == 201)
            let retries: [(key: String, credits: Int, status: Int, answer: String?, problem: String?)] = [
                ("big", 60, 201, big.body, nil),  // 35 credits left: it would be refused now
                ("small", 5, 201, small.body, nil),  // it would pass again
                ("small", 6, 422, nil, "idempotency-key-reuse"),  // another request would pass
                ("big", 70, 422, nil, "idempotency-key-reuse"),  // another request would be refused
            ]
            for retry in retries {
                let reply = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: retry.credits), key: retry.key)
                #expect(reply.status == retry.status, "\(retry.key) \(retry.credits)")
                if let answer = retry.answer { #expect(reply.body == answer, "\(retry.key)") }
                if let problem = retry.problem { #expect(reply.problemType == problem, "\(retry.key) \(retry.credits)") }
            }
            let holds = try await api.store.ledger().filter { $0.entry.kind == .callOff }
            #expect(holds.map(\.entry.creditsHeldDelta).reduce(0, +) == 65)
            #expect(try await api.store.verify().isClean)
        }
    }

    @Test("a refused request is answered the same way on retry with its key")
    func refusalIsRemembered() async throws {
        try await APIHarness.run { api in
            let first = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 4), key: "k1")
            let again = try await api.call(.post, "/v1/call-offs", json: APIHarness.callOffJSON(credits: 4), key: "k1")
            #expect(first.status == 422 && again.status == 422 && first.body == again.body)
        }
    }

    @Test("R12 fifty concurrent call-offs of 5 against 100 credits: exactly 20 succeed, the ledger verifies")
    func noDoubleSpend() async throws {
        try await APIHarness.run { api in
            let replies = try await api.concurrently(50, .post, "/v1/call-offs", json: { _ in APIHarness.callOffJSON(credits: 5) },
                                                     key: { "race-\($0)" })
            #expect(replies.filter { $0.status == 201 }.count == 20)
            #expect(replies.filter { $0.status == 422 && $0.problemType == "insufficient-credits" }.count == 30)
            let report = try await api.store.verify()
            #expect(report.isClean)
            let balances = try await api.store.balances(of: "acme", today: APIHarness.today)
            #expect(balances.first { $0.program == "PSC" }?.creditsHeld == 100)
        }
    }
}
