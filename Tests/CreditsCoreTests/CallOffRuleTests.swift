import CreditsCore
import Testing

@Suite("Call-offs (R2, R7–R12)")
struct CallOffRuleTests {
    static let lots = [Fixture.lot(1, available: 100)]

    @Test("R8 duration-based engagements are refused whatever their size", arguments: [5, 50, 100])
    func r8DurationBased(credits: Int) {
        let result = Fixture.callOff(Fixture.custom(credits: credits, pricing: .durationBased), lots: Self.lots)
        #expect(result.rejectionCode == .durationBasedEngagement)
    }

    @Test("R8 a fixed-scope engagement names at least one deliverable", arguments: [
        ([], RejectionCode?.some(.missingDeliverables)), ([" "], .missingDeliverables), (["Design"], nil),
    ] as [([String], RejectionCode?)])
    func r8Deliverables(deliverables: [String], expected: RejectionCode?) {
        let result = Fixture.callOff(Fixture.custom(credits: 10, deliverables: deliverables), lots: Self.lots)
        #expect(result.rejectionCode == expected)
    }

    @Test("R8 each program pays for its engagement kinds", arguments: [
        ("PSC", EngagementKind.other, RejectionCode?.some(.kindNotCovered)),
        ("FSC", .other, nil), ("PSC", .migration, nil), ("FSC", .design, nil),
    ])
    func r8Kinds(program: String, kind: EngagementKind, expected: RejectionCode?) {
        let lots = [Fixture.lot(1, available: 100, program: program)]
        let result = Fixture.callOff(Fixture.custom(credits: 10, kind: kind), lots: lots, program: program)
        #expect(result.rejectionCode == expected)
    }

    @Test("R2 an offering the customer's entity can't deliver is refused")
    func r2LocalDelivery() {
        func offering(_ entities: [Entity.ID], pricing: Pricing = .fixedScope) -> Offering {
            Offering(id: "wan", name: "WAN migration", kind: .migration, pricing: pricing, credits: 20,
                     deliverables: ["Plan"], entities: entities)
        }
        #expect(Fixture.callOff(offering: offering(["JN-US"]), lots: Self.lots).rejectionCode == .notDeliverableInEntity)
        #expect(Fixture.callOff(offering: offering(["JN-US", "JN-DE"]), lots: Self.lots).value?.engagement.credits == 20)
        #expect(Fixture.callOff(offering: offering(["JN-DE"], pricing: .durationBased), lots: Self.lots).rejectionCode
            == .durationBasedEngagement)
    }

    @Test("R9 the call-off's purchase order and signed statement of work are required", arguments: [
        ("PO", "SOW", "2026-03-01", nil),
        (nil, "SOW", "2026-03-01", .missingPurchaseOrder),
        ("", "SOW", "2026-03-01", .missingPurchaseOrder),
        ("PO", nil, "2026-03-01", .missingStatementOfWork),
        ("PO", " ", "2026-03-01", .missingStatementOfWork),
        ("PO", "SOW", nil, .missingStatementOfWork),
        ("PO", "SOW", "2026-03-15", nil),
        ("PO", "SOW", "2026-03-16", .statementOfWorkNotSigned),
    ] as [(String?, String?, String?, RejectionCode?)])
    func r9Paperwork(po: String?, sow: String?, signed: String?, expected: RejectionCode?) {
        let result = Fixture.callOff(Fixture.custom(credits: 10), lots: Self.lots, po: po, sow: sow, sowSigned: signed)
        #expect(result.rejectionCode == expected)
    }

    @Test("R10 minimum call-off: 5 PSC, 10 FSC", arguments: [
        ("PSC", 4, RejectionCode?.some(.minimumCallOff)), ("PSC", 5, nil), ("PSC", 6, nil),
        ("FSC", 9, .minimumCallOff), ("FSC", 10, nil), ("FSC", 11, nil),
        ("PSC", 0, .invalidCredits), ("PSC", -5, .invalidCredits),
    ])
    func r10MinimumCallOff(program: String, credits: Int, expected: RejectionCode?) {
        let lots = [Fixture.lot(1, available: 100, program: program)]
        let result = Fixture.callOff(Fixture.custom(credits: credits), lots: lots, program: program)
        #expect(result.rejectionCode == expected)
        if expected == nil { #expect(result.value?.engagement.credits == credits) }
    }

    @Test("R11 credits are whole numbers: fractions are refused, never rounded", arguments: [
        ("5", Int?.some(5), RejectionCode?.none), (" 12 ", 12, nil), ("2.5", nil, .fractionalCredits),
        ("10.0", nil, .fractionalCredits), (".5", nil, .fractionalCredits), ("-0.5", nil, .fractionalCredits),
        ("0", nil, .invalidCredits), ("-3", nil, .invalidCredits), ("abc", nil, .invalidCredits),
        ("1e3", nil, .invalidCredits), ("", nil, .invalidCredits), ("100001", nil, .invalidCredits),
        ("99999999999999999999", nil, .invalidCredits),
    ])
    func r11WholeCredits(text: String, value: Int?, expected: RejectionCode?) {
        let result = Credits.parse(text)
        #expect(result.value == value)
        #expect(result.rejectionCode == expected)
    }

    @Test("R11 adjustments are signed whole credits", arguments: [
        ("-3", Int?.some(-3), RejectionCode?.none), ("+4", 4, nil), ("-1.5", nil, .fractionalCredits), ("0", nil, .invalidCredits),
    ])
    func r11SignedCredits(text: String, value: Int?, expected: RejectionCode?) {
        #expect(Credits.parseSigned(text).value == value)
        #expect(Credits.parseSigned(text).rejectionCode == expected)
    }

    @Test("R12 the lot expiring first is spent first, then by purchase date, then by id")
    func r12Order() throws {
        let lots = [
            Fixture.lot(4, available: 10, purchased: "2026-02-01", expires: "2027-02-01"),
            Fixture.lot(3, available: 10, purchased: "2026-01-05", expires: "2027-01-20"),
            Fixture.lot(2, available: 10, purchased: "2026-01-01", expires: "2027-01-20"),
            Fixture.lot(1, available: 10, purchased: "2026-01-01", expires: "2027-01-20"),
        ]
        let draws = try CallOffs.allocate(35, from: lots, program: .professional, today: Fixture.today,
                                          plannedEndOn: Fixture.date("2026-12-31")).get()
        #expect(draws == [Draw(lot: 1, credits: 10), Draw(lot: 2, credits: 10), Draw(lot: 3, credits: 10), Draw(lot: 4, credits: 5)])
    }

    @Test("R12 a call-off spanning three lots holds credits in each and moves them to held")
    func r12SpanningThreeLots() throws {
        let lots = [
            Fixture.lot(1, available: 3, purchased: "2025-06-01"),
            Fixture.lot(2, available: 4, purchased: "2025-09-01"),
            Fixture.lot(3, available: 20, purchased: "2026-01-01"),
        ]
        let decision = try Fixture.callOff(Fixture.custom(credits: 12), lots: lots, plannedEnd: "2026-05-31").get()
        #expect(decision.engagement.draws == [Draw(lot: 1, credits: 3), Draw(lot: 2, credits: 4), Draw(lot: 3, credits: 5)])
        #expect(decision.lots.map(\.creditsAvailable) == [0, 0, 15])
        #expect(decision.lots.map(\.creditsHeld) == [3, 4, 5])
        #expect(decision.entries.allSatisfy { $0.kind == .callOff && $0.creditsHeldDelta == -$0.creditsAvailableDelta })
    }

    @Test("R12 lots that expire before the planned end are skipped", arguments: [
        ("2026-06-29", [Draw(lot: 1, credits: 10)]),
        ("2026-06-30", [Draw(lot: 1, credits: 10)]),
        ("2026-07-01", [Draw(lot: 2, credits: 10)]),
    ])
    func r12SkipShortLots(plannedEnd: String, draws: [Draw]) throws {
        let lots = [Fixture.lot(1, available: 50, expires: "2026-06-30"), Fixture.lot(2, available: 50, expires: "2027-01-31")]
        let decision = try Fixture.callOff(Fixture.custom(credits: 10), lots: lots, plannedEnd: plannedEnd).get()
        #expect(decision.engagement.draws == draws)
    }

    @Test("R12 when the eligible balance is short nothing is spent and the error says what is available")
    func r12Insufficient() {
        let lots = [Fixture.lot(1, available: 4, expires: "2026-04-30"), Fixture.lot(2, available: 3)]
        let result = Fixture.callOff(Fixture.custom(credits: 8), lots: lots, plannedEnd: "2026-04-30")
        guard case .failure(let rejection) = result else { Issue.record("expected a rejection"); return }
        #expect(rejection.code == .insufficientCredits)
        #expect(rejection.detail.hasPrefix("7 PSC credits available for an engagement ending by 2026-04-30, 8 requested"))
        // With a planned end after lot 1's expiry only lot 2's 3 credits count.
        let later = Fixture.callOff(Fixture.custom(credits: 8), lots: lots, plannedEnd: "2026-05-01")
        guard case .failure(let short) = later else { Issue.record("expected a rejection"); return }
        #expect(short.detail.hasPrefix("3 PSC credits available"))
    }

    @Test("R12 only the program's lots are drawn from")
    func r12ProgramOnly() {
        let lots = [Fixture.lot(1, available: 50, program: "FSC")]
        #expect(Fixture.callOff(Fixture.custom(credits: 10), lots: lots).rejectionCode == .insufficientCredits)
    }

    @Test("R7 credits may be called off before the expiry date, not on or after it", arguments: [
        ("2027-01-09", true), ("2027-01-10", false), ("2027-01-11", false),
    ])
    func r7CallOffAroundExpiry(day: String, allowed: Bool) {
        let lots = [Fixture.lot(1, available: 10, purchased: "2026-01-10", expires: "2027-01-10")]
        let result = Fixture.callOff(Fixture.custom(credits: 5), lots: lots, today: Fixture.date(day), plannedEnd: "2027-01-10",
                                     sowSigned: "2026-12-01")
        #expect((result.value != nil) == allowed)
        if !allowed { #expect(result.rejectionCode == .insufficientCredits || result.rejectionCode == .plannedEndInPast) }
    }

    @Test("R7 a lot bought after today is not yet usable")
    func r7NotBeforePurchase() {
        let lots = [Fixture.lot(1, available: 10, purchased: "2026-03-16")]
        #expect(Fixture.callOff(Fixture.custom(credits: 5), lots: lots).rejectionCode == .insufficientCredits)
    }

    @Test("R12 a planned end before today is refused")
    func plannedEndInPast() {
        #expect(Fixture.callOff(Fixture.custom(credits: 5), lots: Self.lots, plannedEnd: "2026-03-14").rejectionCode == .plannedEndInPast)
        #expect(Fixture.callOff(Fixture.custom(credits: 5), lots: Self.lots, plannedEnd: "2026-03-15").value != nil)
    }

    @Test("a call-off names an offering or a custom engagement, exactly one")
    func exactlyOneScope() {
        let offering = Offering(id: "a", name: "A", kind: .assessment, pricing: .fixedScope, credits: 10,
                                deliverables: ["R"], entities: ["JN-DE"])
        #expect(Fixture.callOff(lots: Self.lots).rejectionCode == .invalidInput)
        #expect(Fixture.callOff(Fixture.custom(credits: 10), offering: offering, lots: Self.lots).rejectionCode == .invalidInput)
    }
}
