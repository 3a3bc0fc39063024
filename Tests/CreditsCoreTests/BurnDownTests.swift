import CreditsCore
import Testing

@Suite("Burn-down and money display (R7, R10, R15 seen over time)")
struct BurnDownTests {
    static func entry(_ kind: LedgerEntry.Kind, lot: Int = 1, _ available: Int, _ held: Int = 0, on day: String) -> LedgerEntry {
        LedgerEntry(kind: kind, lot: Lot.ID(lot), customer: "acme", program: "PSC", creditsAvailableDelta: available,
                    creditsHeldDelta: held, effectiveOn: Fixture.date(day), actor: "ops", reason: "test", document: "x")
    }

    @Test("history has one point per date with running totals, ending today")
    func history() {
        let entries = [
            Self.entry(.purchase, 50, on: "2025-06-01"),
            Self.entry(.callOff, -10, 10, on: "2025-09-01"),
            Self.entry(.callOff, -5, 5, on: "2025-09-01"),
            Self.entry(.return, 5, -5, on: "2025-10-01"),
            Self.entry(.expiry, lot: 2, -7, on: "2026-01-05"),
        ]
        let chart = BurnDown.compute(program: "PSC", entries: entries, lots: [], today: Fixture.today)
        #expect(chart.history.map(\.on.description) == ["2025-06-01", "2025-09-01", "2025-10-01", "2026-01-05", "2026-03-15"])
        #expect(chart.history.map(\.used) == [0, 15, 10, 10, 10])
        #expect(chart.history.map(\.balance) == [50, 35, 40, 33, 33])
        #expect(chart.history.last?.expired == 7)
        #expect(chart.history.last?.purchased == 50)
    }

    /// Two lots of 30 expiring 60 and 240 days from today; the pace is credits used in the last 180 days.
    @Test("R7 the projection spends at the recent pace, first-in first-out, and loses what is left at each expiry", arguments: [
        // pace (credits per 180 days), lost at the first expiry, lost at the second, used by the end
        (0, 30, 30, 0),
        (90, 0, 0, 60),      // 0.5 a day: 30 by day 60 would need exactly 30; all 60 used by day 240 (120 wanted)
        (45, 15, 0, 45),     // 15 by day 60; then 60 more wanted by day 240, only 30 left in lot 2
        (18, 24, 12, 24),    // 6 by day 60, 24 by day 240: 18 of lot 2 used, 12 lost
    ])
    func projection(pace: Int, lostFirst: Int, lostSecond: Int, usedByEnd: Int) {
        let today = Fixture.today
        let lots = [
            Fixture.lot(1, available: 30, purchased: "2025-05-14", expires: today.adding(days: 60).description),
            Fixture.lot(2, available: 30, purchased: "2025-11-14", expires: today.adding(days: 240).description),
        ]
        let entries = [Self.entry(.purchase, 100, on: "2025-01-01")]
            + (pace > 0 ? [Self.entry(.callOff, -pace, pace, on: today.adding(days: -10).description)] : [])
        let chart = BurnDown.compute(program: "PSC", entries: entries, lots: lots, today: today)
        #expect(chart.usedInWindow == pace)
        #expect(chart.projection.count == 5, "today, then before and after each of two expiries")
        let expiredNow = chart.history.last!.expired
        #expect(chart.projection[2].expired - expiredNow == lostFirst)
        #expect(chart.projection[4].expired - expiredNow == lostFirst + lostSecond)
        #expect(chart.projection[4].used - chart.history.last!.used == usedByEnd)
        #expect(chart.projection[4].balance == 0, "nothing is left after the last expiry")
    }

    @Test("lots of another program, used up, or already expired are not projected")
    func projectionSkips() {
        let today = Fixture.today
        let lots = [
            Fixture.lot(1, available: 10, program: "FSC"),
            Fixture.lot(2, available: 0, held: 10),
            Fixture.lot(3, available: 10, purchased: "2025-03-15", expires: today.description),
            Fixture.lot(4, available: 10, purchased: "2025-03-16", expires: today.adding(days: 1).description),
        ]
        let chart = BurnDown.compute(program: "PSC", entries: [], lots: lots, today: today)
        #expect(chart.projection.map(\.on) == [today, today.adding(days: 1), today.adding(days: 1)])
        #expect(chart.projection.map(\.balance) == [10, 10, 0])
    }

    @Test("amounts in minor units shown with integer arithmetic", arguments: [
        (123_456, "USD", 2, "1,234.56 USD"), (-5, "EUR", 2, "-0.05 EUR"), (1_200, "JPY", 0, "1,200 JPY"),
        (0, "GBP", 2, "0.00 GBP"), (100_000_000_000, "EUR", 2, "1,000,000,000.00 EUR"), (7, "KWD", 3, "0.007 KWD"),
        (Int.min, "USD", 2, "-92,233,720,368,547,758.08 USD"),
    ])
    func money(minor: Int, currency: String, exponent: Int, shown: String) {
        #expect(Money.format(minor, currency: currency, exponent: exponent) == shown)
    }
}

@Suite("Expiry runs (R7)")
struct ExpiryRunTests {
    @Test("R7 an expiry run may be dated today or earlier, not after", arguments: [(-1, true), (0, true), (1, false), (365, false)])
    func runDate(offset: Int, allowed: Bool) {
        let refusal = Expiry.checkRunDate(Fixture.today.adding(days: offset), today: Fixture.today)
        #expect((refusal == nil) == allowed)
        #expect(refusal.map { $0.code == .expiryAfterToday && $0.code.rule == "R7" } ?? true)
    }
}
