/// A quarter of a (fiscal) year. With the default fiscal start in January, quarters are those of
/// the calendar year (R14 decision); a vendor starting its year in another month shifts them.
/// A fiscal year is named by the calendar year it starts in.
public struct Quarter: Hashable, Sendable, Codable, CustomStringConvertible {
    public let year: Int
    public let number: Int
    public let fiscalYearStartMonth: Int

    public init?(year: Int, number: Int, fiscalYearStartMonth: Int = 1) {
        guard (CalendarDate.yearMin..<CalendarDate.yearMax).contains(year), (1...4).contains(number),
            (1...12).contains(fiscalYearStartMonth)
        else { return nil }
        self.year = year
        self.number = number
        self.fiscalYearStartMonth = fiscalYearStartMonth
    }

    /// Parses `2026Q3` (case-insensitive).
    public init?(_ text: String, fiscalYearStartMonth: Int = 1) {
        let upper = text.uppercased()
        let parts = upper.split(separator: "Q", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count == 4, parts[1].count == 1,
            let year = Int(parts[0]), let number = Int(parts[1])
        else { return nil }
        self.init(year: year, number: number, fiscalYearStartMonth: fiscalYearStartMonth)
    }

    /// The quarter that contains `date`.
    public init(containing date: CalendarDate, fiscalYearStartMonth: Int = 1) {
        let monthsIntoYear = (date.month - fiscalYearStartMonth + 12) % 12
        let startYear = date.month >= fiscalYearStartMonth ? date.year : date.year - 1
        self.init(year: startYear, number: monthsIntoYear / 3 + 1, fiscalYearStartMonth: fiscalYearStartMonth)!
    }

    public var startsOn: CalendarDate {
        CalendarDate(year: year, month: fiscalYearStartMonth, day: 1)!.adding(months: (number - 1) * 3)
    }

    public var endsOn: CalendarDate { startsOn.adding(months: 3).adding(days: -1) }

    public var next: Quarter {
        number == 4
            ? Quarter(year: year + 1, number: 1, fiscalYearStartMonth: fiscalYearStartMonth)!
            : Quarter(year: year, number: number + 1, fiscalYearStartMonth: fiscalYearStartMonth)!
    }

    public func contains(_ date: CalendarDate) -> Bool { startsOn <= date && date <= endsOn }

    public var description: String { "\(year)Q\(number)" }
}
