/// A customer's credits of one program over time, for the burn-down chart: what was bought, used
/// and lost so far, and where the balance goes if the customer keeps calling off at its recent
/// rate until the last lot expires. Projected credits are spent first-in, first-out, like real
/// call-offs (R10), so the projection shows which lots would still be lost.
public struct BurnDown: Hashable, Sendable {
    public struct Point: Hashable, Sendable {
        public let on: CalendarDate
        /// Cumulative credits bought (purchases only).
        public let purchased: Int
        /// Cumulative credits called off, net of returns.
        public let used: Int
        /// Cumulative credits lost to expiry.
        public let expired: Int
        /// Available credits: purchases and adjustments less call-offs and expiries.
        public let balance: Int
    }

    public let program: Program.ID
    /// One point per date with a change, then today.
    public let history: [Point]
    /// From today to the last expiry: a point just before and one on each lot's expiry date.
    public let projection: [Point]
    /// Credits called off (net) in the `rateWindowDays` before today: the projected pace.
    public let usedInWindow: Int

    public static let rateWindowDays = 180
    public static let projectionLotsMax = 200

    public static func compute(program: Program.ID, entries: [LedgerEntry], lots: [Lot], today: CalendarDate) -> BurnDown {
        let mine = entries.filter { $0.program == program && $0.effectiveOn <= today }
        let history = Self.history(mine, today: today)
        let windowStart = today.adding(days: -Self.rateWindowDays)
        let usedInWindow = mine.filter { $0.effectiveOn > windowStart }.reduce(0) { $0 + used(by: $1) }
        let usable = lots.filter { $0.program == program && $0.isUsable(on: today) && $0.creditsAvailable > 0 }
            .sorted { ($0.expiresOn, $0.purchasedOn, $0.id) < ($1.expiresOn, $1.purchasedOn, $1.id) }
            .prefix(Self.projectionLotsMax)
        let projection = Self.projection(
            from: history.last!, lots: Array(usable), pace: (max(usedInWindow, 0), Self.rateWindowDays), today: today)
        return BurnDown(program: program, history: history, projection: projection, usedInWindow: usedInWindow)
    }

    static func used(by entry: LedgerEntry) -> Int {
        entry.kind == .callOff || entry.kind == .return ? -entry.creditsAvailableDelta : 0
    }

    static func history(_ entries: [LedgerEntry], today: CalendarDate) -> [Point] {
        var points: [Point] = []
        var last = Point(on: today, purchased: 0, used: 0, expired: 0, balance: 0)
        for entry in entries.sorted(by: { $0.effectiveOn < $1.effectiveOn }) {
            last = Point(
                on: entry.effectiveOn,
                purchased: last.purchased + (entry.kind == .purchase ? entry.creditsAvailableDelta : 0),
                used: last.used + used(by: entry),
                expired: last.expired + (entry.kind == .expiry ? -entry.creditsAvailableDelta : 0),
                balance: last.balance + entry.creditsAvailableDelta)
            // One point per date: the day's last total.
            if points.last?.on == entry.effectiveOn { points.removeLast() }
            points.append(last)
        }
        if points.last?.on != today {
            points.append(Point(on: today, purchased: last.purchased, used: last.used, expired: last.expired, balance: last.balance))
        }
        return points
    }

    /// Spends `pace.credits` every `pace.days` days, first from the lot that expires first; what a
    /// lot still has on its expiry date is lost then.
    static func projection(from now: Point, lots: [Lot], pace: (credits: Int, days: Int), today: CalendarDate) -> [Point] {
        var remaining = lots.map(\.creditsAvailable)
        var spent = 0, lost = 0
        var points = [Point(on: today, purchased: now.purchased, used: now.used, expired: now.expired,
                            balance: remaining.reduce(0, +))]
        for (index, lot) in lots.enumerated() {
            // The demand not yet met up to this expiry, met from this lot and then the later ones,
            // all of which are usable until this date.
            var unmet = max(0, pace.credits * today.days(until: lot.expiresOn) / pace.days - spent)
            for later in index..<lots.count where unmet > 0 {
                let taken = min(unmet, remaining[later])
                remaining[later] -= taken
                unmet -= taken
                spent += taken
            }
            let left = remaining[index...].reduce(0, +)
            points.append(Point(on: lot.expiresOn, purchased: now.purchased, used: now.used + spent,
                                expired: now.expired + lost, balance: left))
            lost += remaining[index]
            points.append(Point(on: lot.expiresOn, purchased: now.purchased, used: now.used + spent,
                                expired: now.expired + lost, balance: left - remaining[index]))
            remaining[index] = 0
        }
        return points
    }
}
