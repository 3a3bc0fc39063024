import ArgumentParser
import CreditsCore
import CreditsStore
import Foundation

/// Options every desk command shares.
struct DeskOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("SQLite file, or postgres://user:password@host:port/database (env CREDITS_DATABASE).", valueName: "path|url"))
    var database: String?

    @Option(name: .customLong("as-of"), help: ArgumentHelp("Act as if today were this date (YYYY-MM-DD).", valueName: "date"))
    var asOf: String?

    @Flag(name: .long, help: "Print the result as JSON.")
    var json = false

    @Option(name: .customLong("pool-size"), help: ArgumentHelp("PostgreSQL: connections per process (1–100).", valueName: "n"))
    var poolSize: String = "10"

    @Option(name: .customLong("statement-timeout-ms"), help: ArgumentHelp("PostgreSQL: the longest one statement may run.", valueName: "ms"))
    var statementTimeout: String = "15000"

    @Option(name: .customLong("connect-timeout"), help: ArgumentHelp("PostgreSQL: seconds to wait for a connection to open.", valueName: "s"))
    var connectTimeout: String = "5"

    var databasePath: String {
        database ?? ProcessInfo.processInfo.environment["CREDITS_DATABASE"] ?? "credits.sqlite"
    }

    /// Today: `--as-of`, or the system date in UTC. The one clock every command reads.
    func today() throws -> CalendarDate {
        if let asOf { return try Parse.date(asOf, field: "--as-of") }
        return Clock.systemToday()
    }

    func postgresSettings() throws -> PostgresSettings {
        var settings = PostgresSettings()
        settings.poolSizeMax = try Parse.integer(poolSize, field: "--pool-size", range: 1...100)
        settings.statementTimeoutMilliseconds = try Parse.integer(statementTimeout, field: "--statement-timeout-ms", range: 100...600_000)
        settings.connectTimeoutSeconds = try Parse.integer(connectTimeout, field: "--connect-timeout", range: 1...120)
        return settings
    }

    func openStore(creating: Bool = false) async throws -> DeskStore {
        DeskStore(database: try await DeskDatabase.open(path: databasePath, postgres: try postgresSettings(), creating: creating))
    }

    /// Opens the desk, runs `body`, and closes the desk whether `body` succeeded or not. Only the
    /// commands that set a desk up (`migrate`, `demo`, `serve`) pass `creating`.
    func withStore<T>(creating: Bool = false, _ body: (DeskStore) async throws -> T) async throws -> T {
        let store = try await openStore(creating: creating)
        do {
            let result = try await body(store)
            await store.database.close()
            return result
        } catch {
            await store.database.close()
            throw error
        }
    }
}

enum Clock {
    static func systemToday() -> CalendarDate {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month, .day], from: Date())
        return CalendarDate(year: parts.year!, month: parts.month!, day: parts.day!)!
    }
}

/// Reading command-line text into core values. Failures are rejections with the core's codes,
/// so `2.5` credits is `fractional-credits (R11)` here as everywhere.
enum Parse {
    static func date(_ text: String, field: String) throws -> CalendarDate {
        guard let date = CalendarDate(text) else {
            throw Rejection(.invalidDate, "\(field) '\(text.prefix(40))' is not a date of the form YYYY-MM-DD")
        }
        return date
    }

    static func credits(_ text: String, field: String = "--credits") throws -> Int {
        try Credits.parse(text, field: field).get()
    }

    static func quarter(_ text: String, fiscalYearStartMonth: Int) throws -> Quarter {
        guard let quarter = Quarter(text, fiscalYearStartMonth: fiscalYearStartMonth) else {
            throw Rejection(.invalidInput, "quarter '\(text.prefix(20))' is not of the form 2026Q3")
        }
        return quarter
    }

    static func enumeration<T: RawRepresentable & CaseIterable>(_ text: String, field: String) throws -> T
    where T.RawValue == String {
        guard let value = T(rawValue: text) else {
            let choices = T.allCases.map(\.rawValue).joined(separator: ", ")
            throw Rejection(.invalidInput, "\(field) '\(text.prefix(40))' is not one of \(choices)")
        }
        return value
    }

    static func integer(_ text: String, field: String, range: ClosedRange<Int>) throws -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw Rejection(.invalidInput, "\(field) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    static func id(_ text: String, field: String) throws -> Int {
        let digits = text.drop { !$0.isNumber }
        guard let value = Int(digits), value > 0 else {
            throw Rejection(.invalidInput, "\(field) '\(text.prefix(20))' is not an id like 12")
        }
        return value
    }
}

enum Output {
    static func json<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    /// Prints `value` as JSON with `--json`, else the human lines.
    static func emit<T: Encodable>(_ value: T, options: DeskOptions, _ human: () -> String) {
        print(options.json ? json(value) : human())
    }

    static func money(_ minor: Int, currency: String, exponent: Int) -> String {
        Money.format(minor, currency: currency, exponent: exponent)
    }
}
