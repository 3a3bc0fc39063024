import CreditsCore
import Testing

@Suite("Engagements, expiry and adjustments (R7, R13, R16, R17)")
struct EngagementRuleTests {
    /// A 12-credit engagement drawn from lots 1 (3, expires 2026-06-01) and 2 (9, expires 2027-01-10).
    static func calledOff() throws -> (Engagement, [Lot.ID: Lot]) {
        let lots = [Fixture.lot(1, available: 3, purchased: "2025-06-01"), Fixture.lot(2, available: 20)]
        let decision = try Fixture.callOff(Fixture.custom(credits: 12), lots: lots, plannedEnd: "2026-05-31").get()
        return (decision.engagement, Dictionary(uniqueKeysWithValues: decision.lots.map { ($0.id, $0) }))
    }

    @Test("R13 the engagement life: scheduled → in-delivery → delivered, or cancelled before delivery", arguments: [
        (Engagement.Status.scheduled, DeskAction.start, Engagement.Status?.some(.inDelivery)),
        (.scheduled, .deliver, nil),
        (.scheduled, .cancel, .cancelled),
        (.inDelivery, .start, nil),
        (.inDelivery, .deliver, .delivered),
        (.inDelivery, .cancel, .cancelled),
        (.delivered, .start, nil), (.delivered, .deliver, nil), (.delivered, .cancel, nil),
        (.cancelled, .start, nil), (.cancelled, .deliver, nil), (.cancelled, .cancel, nil),
    ])
    func r13Transitions(from: Engagement.Status, action: DeskAction, to: Engagement.Status?) throws {
        var (engagement, lots) = try Self.calledOff()
        engagement = try Self.move(engagement, to: from, lots: &lots)
        let result = action.apply(engagement, lots: lots, today: Fixture.today)
        #expect(result.value?.engagement.status == to)
        if to == nil { #expect(result.rejectionCode == .invalidTransition) }
    }

    @Test("R13 delivery spends the held credits; available is unchanged")
    func r13Delivery() throws {
        var (engagement, lots) = try Self.calledOff()
        engagement = try Self.move(engagement, to: .inDelivery, lots: &lots)
        let delivered = try Engagements.deliver(engagement, lots: lots, today: Fixture.today, actor: Fixture.operations).get()
        #expect(delivered.entries.map(\.kind) == [.delivery, .delivery])
        #expect(delivered.lots.map(\.creditsHeld) == [0, 0])
        #expect(delivered.lots.map(\.creditsAvailable) == [0, 11])
    }

    @Test("R13 cancelling returns the credits to the lots they came from, keeping their expiry")
    func r13CancelReturns() throws {
        let (engagement, lots) = try Self.calledOff()
        let cancelled = try Engagements.cancel(engagement, lots: lots, today: Fixture.date("2026-04-01"), actor: Fixture.operations, reason: nil).get()
        #expect(cancelled.entries.map(\.kind) == [.return, .return])
        #expect(cancelled.lots.map(\.creditsAvailable) == [3, 20])
        #expect(cancelled.lots.map(\.expiresOn) == lots.values.sorted { $0.id < $1.id }.map(\.expiresOn))
    }

    @Test("R13 credits returned after their lot expired expire at once", arguments: [
        ("2026-05-31", [LedgerEntry.Kind.return, .return], [3, 20]),
        ("2026-06-01", [.return, .expiry, .return], [0, 20]),
        ("2026-06-02", [.return, .expiry, .return], [0, 20]),
    ])
    func r13CancelAfterExpiry(day: String, kinds: [LedgerEntry.Kind], available: [Int]) throws {
        let (engagement, lots) = try Self.calledOff()
        let cancelled = try Engagements.cancel(engagement, lots: lots, today: Fixture.date(day), actor: Fixture.operations, reason: "scope changed").get()
        #expect(cancelled.entries.map(\.kind) == kinds)
        #expect(cancelled.lots.map(\.creditsAvailable) == available)
        #expect(cancelled.lots.allSatisfy { $0.creditsHeld == 0 })
    }

    @Test("R13 an open engagement past a drawn lot's expiry is overdue; its credits stay held", arguments: [
        ("2026-06-01", false), ("2026-06-02", true),
    ])
    func r13Overdue(day: String, overdue: Bool) throws {
        let (engagement, lots) = try Self.calledOff()
        let expiries = lots.mapValues(\.expiresOn)
        #expect(engagement.isOverdue(on: Fixture.date(day), lotExpiries: expiries) == overdue)
        let entries = Expiry.due(lots: Array(lots.values), asOf: Fixture.date("2027-12-31"), actor: Fixture.operations)
        #expect(entries.allSatisfy { $0.creditsHeldDelta == 0 })
    }

    @Test("R7 expiry zeroes a lot's unused credits on its expiry date, once", arguments: [
        ("2027-01-09", 0), ("2027-01-10", 1), ("2027-01-11", 1),
    ])
    func r7Expiry(asOf: String, entries: Int) {
        let lot = Fixture.lot(1, available: 7, held: 5, purchased: "2026-01-10")
        let due = Expiry.due(lots: [lot], asOf: Fixture.date(asOf), actor: Fixture.operations)
        #expect(due.count == entries)
        guard let entry = due.first else { return }
        #expect(entry.creditsAvailableDelta == -7 && entry.effectiveOn == Fixture.date("2027-01-10"))
        let after = lot.applying(entry)
        #expect(after.creditsAvailable == 0 && after.creditsHeld == 5)
        #expect(Expiry.due(lots: [after], asOf: Fixture.date(asOf), actor: Fixture.operations).isEmpty)
    }

    @Test("R17 adjustments: signed, with a reason, by vendor operations, never below zero", arguments: [
        (-3, "miscount", Actor.Role.operations, RejectionCode?.none),
        (-8, "miscount", .operations, .adjustmentExceedsBalance),
        (-7, "miscount", .admin, nil),
        (5, "goodwill", .operations, nil),
        (5, "", .operations, .missingReason),
        (5, "goodwill", .accountManager, .notPermitted),
        (5, "goodwill", .customer, .notPermitted),
        (5, "goodwill", .finance, .notPermitted),
        (0, "nothing", .operations, .invalidCredits),
        (Int.min, "overflow", .operations, .invalidCredits),
        (Int.max, "overflow", .operations, .invalidCredits),
    ])
    func r17Adjustments(credits: Int, reason: String, role: Actor.Role, expected: RejectionCode?) {
        let lot = Fixture.lot(1, available: 7)
        let request = AdjustmentRequest(customer: "acme", lot: lot.id, credits: credits, reason: reason)
        let result = Adjustments.adjust(request, customer: Fixture.customer, lot: lot, program: nil, newLotID: 99,
                                        today: Fixture.today, actor: Actor(name: "x", role: role))
        #expect(result.rejectionCode == expected)
    }

    @Test("R17 a grant is a new lot, no invoice, expiring with the corrected lot unless it says otherwise")
    func r17Grant() throws {
        let lot = Fixture.lot(1, available: 7, expires: "2026-09-30")
        func grant(_ expires: String?, lot: Lot?, program: Program? = nil) -> Result<AdjustmentDecision, Rejection> {
            Adjustments.adjust(
                AdjustmentRequest(customer: "acme", lot: lot?.id, credits: 4, reason: "late delivery credit", expiresOn: expires.map(Fixture.date)),
                customer: Fixture.customer, lot: lot, program: program, newLotID: 99, today: Fixture.today, actor: Fixture.operations)
        }
        let byDefault = try grant(nil, lot: lot).get()
        #expect(byDefault.isNewLot && byDefault.lot.id == 99 && byDefault.lot.source == .adjustment)
        #expect(byDefault.lot.expiresOn == Fixture.date("2026-09-30") && byDefault.lot.creditsAvailable == 4)
        #expect(try grant("2026-12-31", lot: lot).get().lot.expiresOn == Fixture.date("2026-12-31"))
        #expect(grant("2026-03-15", lot: lot).rejectionCode == .invalidExpiry)
        #expect(grant(nil, lot: nil, program: .professional).rejectionCode == .invalidExpiry)
        #expect(grant(nil, lot: nil).rejectionCode == .unknownProgram)
        #expect(try grant("2026-12-31", lot: nil, program: .flexible).get().lot.program == "FSC")
    }

    @Test("R17 a lot of another customer can't be adjusted")
    func r17OtherCustomersLot() {
        let lot = Fixture.lot(1, available: 7, customer: "globex")
        let result = Adjustments.adjust(AdjustmentRequest(customer: "acme", lot: lot.id, credits: -1, reason: "x"),
                                        customer: Fixture.customer, lot: lot, program: nil, newLotID: 9,
                                        today: Fixture.today, actor: Fixture.operations)
        #expect(result.rejectionCode == .unknownLot)
    }

    @Test("R16 each entry kind moves balances only in its own way", arguments: [
        (LedgerEntry.Kind.purchase, 10, 0, true), (.purchase, -10, 0, false), (.purchase, 10, 5, false),
        (.callOff, -5, 5, true), (.callOff, -5, 4, false), (.delivery, 0, -5, true), (.delivery, 5, -5, false),
        (.return, 5, -5, true), (.return, -5, 5, false), (.expiry, -3, 0, true), (.expiry, 3, 0, false),
        (.adjustment, 2, 0, true), (.adjustment, -2, 0, true), (.adjustment, 0, 0, false), (.adjustment, 2, 2, false),
    ])
    func r16EntryShapes(kind: LedgerEntry.Kind, available: Int, held: Int, valid: Bool) {
        #expect(LedgerEntry.hasValidShape(kind: kind, available: available, held: held) == valid)
    }

    @Test("R16 a lot can never go below zero: the process stops rather than write it")
    func r16NeverBelowZero() async {
        await #expect(processExitsWith: .failure) {
            let lot = Fixture.lot(1, available: 2)
            let entry = LedgerEntry(kind: .callOff, lot: 1, customer: "acme", program: "PSC", creditsAvailableDelta: -3,
                                    creditsHeldDelta: 3, effectiveOn: Fixture.today, actor: "x", reason: "x", document: "x")
            _ = lot.applying(entry)
        }
    }

    @Test("R16 a lot can never hold more than was put into it")
    func r16NeverAboveGranted() async {
        await #expect(processExitsWith: .failure) {
            _ = Fixture.lot(1, available: 8, held: 3, granted: 10)
        }
    }

    static func move(_ engagement: Engagement, to status: Engagement.Status, lots: inout [Lot.ID: Lot]) throws -> Engagement {
        let path: [DeskAction] = switch status {
        case .scheduled: []
        case .inDelivery: [.start]
        case .delivered: [.start, .deliver]
        case .cancelled: [.cancel]
        }
        var current = engagement
        for action in path {
            let transition = try action.apply(current, lots: lots, today: Fixture.today).get()
            for lot in transition.lots { lots[lot.id] = lot }
            current = transition.engagement
        }
        return current
    }
}

enum DeskAction: String, CaseIterable, Sendable {
    case start, deliver, cancel

    func apply(_ engagement: Engagement, lots: [Lot.ID: Lot], today: CalendarDate) -> Result<EngagementTransition, Rejection> {
        switch self {
        case .start: Engagements.start(engagement, today: today)
        case .deliver: Engagements.deliver(engagement, lots: lots, today: today, actor: Fixture.operations)
        case .cancel: Engagements.cancel(engagement, lots: lots, today: today, actor: Fixture.operations, reason: nil)
        }
    }
}
