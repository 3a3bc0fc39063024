/// One program's balances for one customer, as of a date.
public struct ProgramBalance: Hashable, Sendable, Codable {
    public let program: Program.ID
    /// Free to call off today: available credits of lots still in term.
    public let creditsAvailable: Int
    /// Committed to open engagements (R13).
    public let creditsHeld: Int
    /// R15: available credits that expire within 30, 60 and 90 days (cumulative).
    public let creditsExpiringWithin30Days: Int
    public let creditsExpiringWithin60Days: Int
    public let creditsExpiringWithin90Days: Int
    /// The earliest expiry among lots that still have available credits.
    public let nextExpiryOn: CalendarDate?
}

/// A lot with credits that will be lost unless called off (R15).
public struct ExpiringLot: Hashable, Sendable, Codable {
    public let customer: Customer.ID
    public let program: Program.ID
    public let lot: Lot.ID
    public let expiresOn: CalendarDate
    public let daysLeft: Int
    public let creditsAvailable: Int
}

public enum Balances {
    public static func of(lots: [Lot], programs: [Program.ID], today: CalendarDate) -> [ProgramBalance] {
        programs.map { program in
            let mine = lots.filter { $0.program == program }
            let usable = mine.filter { $0.isUsable(on: today) && $0.creditsAvailable > 0 }
            func expiring(_ days: Int) -> Int {
                let horizon = today.adding(days: days)
                return usable.filter { $0.expiresOn <= horizon }.reduce(0) { $0 + $1.creditsAvailable }
            }
            return ProgramBalance(
                program: program,
                creditsAvailable: usable.reduce(0) { $0 + $1.creditsAvailable },
                creditsHeld: mine.reduce(0) { $0 + $1.creditsHeld },
                creditsExpiringWithin30Days: expiring(30),
                creditsExpiringWithin60Days: expiring(60),
                creditsExpiringWithin90Days: expiring(90),
                nextExpiryOn: usable.map(\.expiresOn).min())
        }
    }

    /// R15: lots whose available credits expire after today and no later than `days` from now.
    /// Credits held by engagements are planned, so they are not at risk and not listed.
    public static func expiring(lots: [Lot], within days: Int, today: CalendarDate) -> [ExpiringLot] {
        precondition((0...Limits.expiringWithinDaysMax).contains(days))
        let horizon = today.adding(days: days)
        return lots.filter { $0.isUsable(on: today) && $0.creditsAvailable > 0 && $0.expiresOn <= horizon }
            .sorted { ($0.expiresOn, $0.customer, $0.id) < ($1.expiresOn, $1.customer, $1.id) }
            .map {
                ExpiringLot(customer: $0.customer, program: $0.program, lot: $0.id, expiresOn: $0.expiresOn,
                            daysLeft: today.days(until: $0.expiresOn), creditsAvailable: $0.creditsAvailable)
            }
    }
}
