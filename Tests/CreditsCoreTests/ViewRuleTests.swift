import CreditsCore
import Testing

@Suite("Statements, expiring credits and dates (R7, R14, R15)")
struct ViewRuleTests {
    static func entry(_ kind: LedgerEntry.Kind, lot: Int, _ available: Int, _ held: Int = 0, on day: String, document: String = "x") -> LedgerEntry {
        LedgerEntry(kind: kind, lot: Lot.ID(lot), customer: "acme", program: "PSC", creditsAvailableDelta: available,
                    creditsHeldDelta: held, effectiveOn: Fixture.date(day), actor: "ops", reason: "test", document: document)
    }

    /// Lot 1 bought 2025-08-15 (expires 2026-08-15), lot 2 bought 2026-02-10; activity around Q1 2026.
    static let lots = [
        Fixture.lot(1, available: 0, purchased: "2025-08-15", granted: 50),
        Fixture.lot(2, available: 0, purchased: "2026-02-10", granted: 20),
    ]
    static let entries = [
        entry(.purchase, lot: 1, 50, on: "2025-08-15"),
        entry(.callOff, lot: 1, -10, 10, on: "2025-12-31", document: "engagement/1"),
        entry(.callOff, lot: 1, -15, 15, on: "2026-01-01", document: "engagement/2"),
        entry(.purchase, lot: 2, 20, on: "2026-02-10"),
        entry(.return, lot: 1, 15, -15, on: "2026-03-01", document: "engagement/2"),
        entry(.adjustment, lot: 2, -2, on: "2026-03-31"),
        entry(.delivery, lot: 1, 0, -10, on: "2026-03-20", document: "engagement/1"),
        entry(.callOff, lot: 2, -5, 5, on: "2026-04-01", document: "engagement/3"),
    ]

    static func engagement(_ id: Int, on day: String, credits: Int) -> Engagement {
        Engagement(id: Engagement.ID(id), customer: "acme", program: "PSC", purchaseOrder: "PO-\(id)", sowReference: "SOW-\(id)",
                   sowSignedOn: Fixture.date(day), offering: nil, title: "E\(id)", kind: .design, deliverables: ["D"],
                   credits: credits, calledOffOn: Fixture.date(day), plannedEndOn: Fixture.date("2026-06-30"),
                   draws: [Draw(lot: 1, credits: credits)], status: .scheduled, statusChangedOn: Fixture.date(day))
    }

    @Test("R14 a quarter's figures: opening + purchased − called off + returned − expired ± adjusted = closing")
    func r14Figures() throws {
        let statement = try Statements.compute(
            customer: Fixture.customer, programs: ["PSC"], quarter: Quarter("2026Q1")!, lots: Self.lots,
            entries: Self.entries, engagements: [Self.engagement(1, on: "2025-12-31", credits: 10), Self.engagement(2, on: "2026-01-01", credits: 15)],
            today: Fixture.date("2026-04-01")).get()
        let psc = statement.programs[0]
        #expect(!statement.provisional)
        #expect([psc.openingBalance, psc.purchased, psc.calledOff, psc.returned, psc.expired, psc.adjusted, psc.closingBalance]
            == [40, 20, 15, 15, 0, -2, 58])
        #expect(psc.delivered == 10 && psc.heldAtClose == 0)
        #expect(psc.lots.map(\.creditsRemaining) == [40, 18])
        #expect(psc.callOffs.map(\.engagement) == [2])
        #expect(psc.callOffs.first?.statusAtClose == "cancelled")
    }

    @Test("R14 the statement shows the credits expiring next quarter")
    func r14ExpiringNextQuarter() throws {
        let statement = try Statements.compute(
            customer: Fixture.customer, programs: ["PSC"], quarter: Quarter("2026Q2")!, lots: Self.lots,
            entries: Self.entries, engagements: [], today: Fixture.date("2026-07-01")).get()
        #expect(statement.programs[0].expiringNextQuarter == 40)
        #expect(statement.programs[0].lots.map(\.expiresNextQuarter) == [true, false])
    }

    @Test("R14 past quarters are issuable, the current one provisional, later ones not yet", arguments: [
        ("2026Q1", "2026-03-31", Statements.Availability.provisional), ("2026Q1", "2026-04-01", .issuable),
        ("2026Q2", "2026-03-31", .notStarted), ("2026Q2", "2026-04-01", .provisional), ("2025Q4", "2026-01-01", .issuable),
    ])
    func r14Availability(quarter: String, today: String, expected: Statements.Availability) {
        #expect(Statements.availability(of: Quarter(quarter)!, today: Fixture.date(today)) == expected)
    }

    @Test("R14 calendar quarters by default; a fiscal year start shifts them (decision)", arguments: [
        ("2026Q1", 1, "2026-01-01", "2026-03-31"), ("2026Q4", 1, "2026-10-01", "2026-12-31"),
        ("2024Q1", 1, "2024-01-01", "2024-03-31"), ("2026Q1", 4, "2026-04-01", "2026-06-30"),
        ("2026Q4", 4, "2027-01-01", "2027-03-31"), ("2026Q2", 11, "2027-02-01", "2027-04-30"),
    ])
    func r14QuarterBounds(text: String, fiscalStart: Int, starts: String, ends: String) {
        let quarter = Quarter(text, fiscalYearStartMonth: fiscalStart)!
        #expect(quarter.startsOn == Fixture.date(starts) && quarter.endsOn == Fixture.date(ends))
        #expect(Quarter(containing: quarter.startsOn, fiscalYearStartMonth: fiscalStart) == quarter)
        #expect(Quarter(containing: quarter.endsOn, fiscalYearStartMonth: fiscalStart) == quarter)
        #expect(quarter.next.startsOn == quarter.endsOn.adding(days: 1))
    }

    @Test("R14 quarters parse strictly", arguments: ["2026Q0", "2026Q5", "26Q1", "2026-Q1", "Q1", "", "2026Q12"])
    func r14QuarterParsing(text: String) {
        #expect(Quarter(text) == nil)
    }

    @Test("R15 credits expiring within 30, 60 and 90 days and not yet planned", arguments: [
        (29, [10, 10, 10]), (30, [10, 10, 10]), (31, [0, 10, 10]), (60, [0, 10, 10]), (61, [0, 0, 10]),
        (90, [0, 0, 10]), (91, [0, 0, 0]), (0, [0, 0, 0]),
    ])
    func r15Expiring(daysLeft: Int, windows: [Int]) {
        let lot = Fixture.lot(1, available: 10, held: 6, purchased: "2025-06-01", expires: Fixture.today.adding(days: daysLeft).description)
        let balance = Balances.of(lots: [lot], programs: ["PSC"], today: Fixture.today)[0]
        #expect([balance.creditsExpiringWithin30Days, balance.creditsExpiringWithin60Days, balance.creditsExpiringWithin90Days] == windows)
        #expect(balance.creditsHeld == 6)
        #expect(Balances.expiring(lots: [lot], within: 30, today: Fixture.today).map(\.creditsAvailable) == (windows[0] > 0 ? [10] : []))
    }

    @Test("R15 balances count only lots still in term; the next expiry is the earliest with credits")
    func r15Balances() {
        let lots = [
            Fixture.lot(1, available: 5, purchased: "2025-03-15"),  // expires today: not usable
            Fixture.lot(2, available: 7, purchased: "2025-04-20"),
            Fixture.lot(3, available: 0, held: 4, purchased: "2025-04-01"),
            Fixture.lot(4, available: 9, purchased: "2026-01-01", program: "FSC"),
        ]
        let balances = Balances.of(lots: lots, programs: ["FSC", "PSC"], today: Fixture.today)
        #expect(balances.map(\.creditsAvailable) == [9, 7])
        #expect(balances[1].nextExpiryOn == Fixture.date("2026-04-20"))
        #expect(balances[1].creditsHeld == 4)
    }

    @Test("dates parse strictly", arguments: [
        ("2026-02-28", true), ("2024-02-29", true), ("2026-02-29", false), ("2100-02-29", false), ("2000-02-29", true),
        ("2026-13-01", false), ("2026-00-10", false), ("2026-04-31", false), ("2026-4-1", false), ("20260401", false),
        ("2026-04-01T00:00", false), ("1899-12-31", false), ("3000-01-01", false), ("", false), ("2026-04-0a", false),
    ])
    func dateParsing(text: String, valid: Bool) {
        #expect((CalendarDate(text) != nil) == valid)
        if valid { #expect(CalendarDate(text)?.description == text) }
    }

    @Test("day arithmetic round-trips across leap years and month ends", arguments: [
        ("2024-02-28", 1, "2024-02-29"), ("2024-02-29", 1, "2024-03-01"), ("2025-12-31", 1, "2026-01-01"),
        ("2026-03-01", -1, "2026-02-28"), ("1970-01-01", 0, "1970-01-01"), ("2026-01-01", 365, "2027-01-01"),
    ])
    func dayArithmetic(from: String, days: Int, to: String) {
        #expect(Fixture.date(from).adding(days: days) == Fixture.date(to))
        #expect(Fixture.date(from).days(until: Fixture.date(to)) == days)
    }
}
