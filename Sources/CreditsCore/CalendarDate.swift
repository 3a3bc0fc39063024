/// A business date: a day of the proleptic Gregorian calendar, with no time and no zone.
///
/// Purchase, expiry, quarter bounds and planned delivery are calendar dates, never instants
/// (DESIGN.md, "Dates"). The arithmetic is integer-only so the core needs no Foundation calendar
/// and gives the same answer on every machine and time zone.
public struct CalendarDate: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Years outside this range are refused at parse time: no business date of a credits
    /// program is that far away, and the bound keeps day arithmetic far from overflow.
    public static let yearMin = 1900
    public static let yearMax = 2999

    public init?(year: Int, month: Int, day: Int) {
        guard (Self.yearMin...Self.yearMax).contains(year), (1...12).contains(month),
            (1...Self.daysIn(month: month, year: year)).contains(day)
        else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Parses exactly `YYYY-MM-DD`; anything else (other separators, times, 2026-02-30) is nil.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard utf8.count == 10, utf8[4] == UInt8(ascii: "-"), utf8[7] == UInt8(ascii: "-") else {
            return nil
        }
        func number(_ range: Range<Int>) -> Int? {
            var value = 0
            for byte in utf8[range] {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                value = value * 10 + Int(byte - UInt8(ascii: "0"))
            }
            return value
        }
        guard let y = number(0..<4), let m = number(5..<7), let d = number(8..<10) else {
            return nil
        }
        self.init(year: y, month: m, day: d)
    }

    /// Reads a date a person or client wrote: a malformed one is `invalid-date`; a real calendar
    /// date outside the desk's years (`yearMin`...`yearMax`) is `date-out-of-range`, since it was
    /// read fine and is refused by the desk's own bound.
    public static func reading(_ text: String, field: String) -> Result<CalendarDate, Rejection> {
        if let date = CalendarDate(text) { return .success(date) }
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        if text.utf8.count == 10, parts.count == 3, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
            (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day)
        {
            return .failure(Rejection(.dateOutOfRange, "\(field) \(text) is outside the years \(yearMin) to \(yearMax) that the desk keeps"))
        }
        return .failure(Rejection(.invalidDate, "\(field) '\(text.prefix(40))' is not a date of the form YYYY-MM-DD"))
    }

    public var description: String {
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }

    public static func < (lhs: CalendarDate, rhs: CalendarDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public static func isLeap(_ year: Int) -> Bool {
        (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
    }

    public static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// The same day `count` calendar months later, clamped to the month's last day
    /// (R7: 31 Jan + 12 months = 31 Jan; 29 Feb + 12 months = 28 Feb).
    public func adding(months count: Int) -> CalendarDate {
        let index = year * 12 + (month - 1) + count
        let newYear = index / 12
        let newMonth = index % 12 + 1
        let newDay = min(day, Self.daysIn(month: newMonth, year: newYear))
        guard let result = CalendarDate(year: newYear, month: newMonth, day: newDay) else {
            preconditionFailure("date out of supported range: \(self) + \(count) months")
        }
        return result
    }

    /// Days since 1970-01-01 (negative before it); Howard Hinnant's days-from-civil.
    public var dayNumber: Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let monthShifted = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * monthShifted + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    public init?(dayNumber: Int) {
        let z = dayNumber + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthShifted = (5 * dayOfYear + 2) / 153
        let d = dayOfYear - (153 * monthShifted + 2) / 5 + 1
        let m = monthShifted < 10 ? monthShifted + 3 : monthShifted - 9
        self.init(year: yearOfEra + era * 400 + (m <= 2 ? 1 : 0), month: m, day: d)
    }

    public func adding(days count: Int) -> CalendarDate {
        guard let result = CalendarDate(dayNumber: dayNumber + count) else {
            preconditionFailure("date out of supported range: \(self) + \(count) days")
        }
        return result
    }

    /// Whole days from `self` to `other` (positive when `other` is later).
    public func days(until other: CalendarDate) -> Int { other.dayNumber - dayNumber }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let date = CalendarDate(text) else {
            throw DecodingError.dataCorrupted(
                .init(codingPath: decoder.codingPath, debugDescription: "not a YYYY-MM-DD date: \(text)"))
        }
        self = date
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
