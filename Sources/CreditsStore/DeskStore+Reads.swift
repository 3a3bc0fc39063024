import CreditsCore
import Foundation
import SQLKit

/// Views of the desk: balances, lots, engagements, expiring credits, statements.
extension DeskStore {
    public struct CustomerSummary: Sendable, Codable {
        public let customer: Customer
        public let balances: [ProgramBalance]
        public let lots: [Lot]
        public let orders: [Order]
        public let engagements: [EngagementView]
    }

    public struct EngagementView: Sendable, Codable {
        public let engagement: Engagement
        /// R13: open past the expiry date of a lot it draws from.
        public let overdue: Bool
    }

    /// The hottest read, so one statement: every program beside the customer's lots in it (a row
    /// with no lot for a program without any). No row means no such customer, or no programs.
    public func balances(of customer: Customer.ID, today: CalendarDate) async throws -> [ProgramBalance] {
        // A row per lot, plus one per program without lots (the migrations make two programs).
        let rows = try await database.query("""
            SELECT p.id AS balance_program, l.* FROM customers c CROSS JOIN programs p
            LEFT JOIN lots l ON l.customer_id = c.id AND l.program_id = p.id
            WHERE c.id = \(bind: customer.rawValue)
            ORDER BY p.id, l.id LIMIT \(unsafeRaw: String(2 * Limits.lotsPerCustomerMax))
            """)
        guard !rows.isEmpty else {
            return try await database.read { sql in
                _ = try await Self.customer(customer, on: sql)
                return []
            }
        }
        var programs: [Program.ID] = []
        var lots: [Lot] = []
        for row in rows {
            let program = Program.ID(try row.decode(column: "balance_program", as: String.self))
            if programs.last != program { programs.append(program) }
            if let lot = try Rows.lotIfAny(row) { lots.append(lot) }
        }
        return Balances.of(lots: lots, programs: programs, today: today)
    }

    static func programIDs(on sql: any SQLDatabase) async throws -> [Program.ID] {
        try await sql.raw("SELECT id FROM programs ORDER BY id").all().map {
            Program.ID(try $0.decode(column: "id", as: String.self))
        }
    }

    public func summary(of id: Customer.ID, today: CalendarDate) async throws -> CustomerSummary {
        try await database.read { sql in
            let (customer, lots) = try await Self.customerWithLots(id, on: sql)
            let programs = try await Self.programIDs(on: sql)
            let orders = try await sql.raw("SELECT * FROM orders WHERE customer_id = \(bind: id.rawValue) ORDER BY id")
                .all().map(Rows.order)
            let expiries = Dictionary(uniqueKeysWithValues: lots.map { ($0.id, $0.expiresOn) })
            let engagements = try await Self.engagements(of: id, on: sql).map {
                EngagementView(engagement: $0, overdue: $0.isOverdue(on: today, lotExpiries: expiries))
            }
            return CustomerSummary(
                customer: customer, balances: Balances.of(lots: lots, programs: programs, today: today),
                lots: lots, orders: orders, engagements: engagements)
        }
    }

    /// R15: credits of every customer (or one) that expire within `days` and aren't planned.
    public func expiring(within days: Int, customer: Customer.ID? = nil, today: CalendarDate) async throws -> [ExpiringLot] {
        guard (0...Limits.expiringWithinDaysMax).contains(days) else {
            throw Rejection(.invalidInput, "the look-ahead is 0 to \(Limits.expiringWithinDaysMax) days")
        }
        return try await database.read { sql in
            if let customer { _ = try await Self.customer(customer, on: sql) }
            let filter: SQLQueryString = customer.map { " AND customer_id = \(bind: $0.rawValue)" } ?? ""
            let lots = try await sql.raw("""
                SELECT * FROM lots WHERE credits_available > 0 AND expires_on > \(bind: today.description)
                AND expires_on <= \(bind: today.adding(days: days).description)\(filter) ORDER BY expires_on, id
                """).all().map(Rows.lot)
            return Balances.expiring(lots: lots, within: days, today: today)
        }
    }

    /// The lots with these ids (an engagement's draws, say).
    public func lots(_ ids: [Lot.ID]) async throws -> [Lot] {
        try await database.read { sql in
            var lots: [Lot] = []
            for id in ids.prefix(Limits.lotsPerCustomerMax) { lots.append(try await Self.lot(id, on: sql)) }
            return lots
        }
    }

    public func engagement(_ id: Engagement.ID) async throws -> Engagement {
        try await database.read { sql in try await Self.engagement(id, on: sql) }
    }

    /// Ledger entries in sequence order from `afterSeq` on, optionally of one customer and
    /// effective within a range of dates, optionally of one kind.
    public func ledger(
        customer: Customer.ID? = nil, from: CalendarDate? = nil, to: CalendarDate? = nil, afterSeq: Int = 0,
        limit: Int = 1_000, kind: LedgerEntry.Kind? = nil
    ) async throws -> [RecordedEntry] {
        try await database.read { sql in
            var filter: SQLQueryString = customer.map { " AND customer_id = \(bind: $0.rawValue)" } ?? ""
            if let kind { filter = filter + " AND kind = \(bind: kind.rawValue)" }
            if let from { filter = filter + " AND effective_on >= \(bind: from.description)" }
            if let to { filter = filter + " AND effective_on <= \(bind: to.description)" }
            return try await sql.raw("""
                SELECT * FROM ledger_entries WHERE seq > \(bind: afterSeq)\(filter)
                ORDER BY seq LIMIT \(bind: min(max(limit, 1), 10_000))
                """).all().map(Rows.recordedEntry)
        }
    }
}

/// Quarterly statements (R14).
extension DeskStore {
    public struct StatementDocument: Sendable {
        public let statement: Statement
        /// The stored JSON, byte for byte as issued (or freshly computed when provisional).
        public let json: String
        public let issuedOn: CalendarDate?
    }

    public func fiscalYearStartMonth() async throws -> Int {
        try await database.read { sql in try await Self.fiscalYearStartMonth(on: sql) }
    }

    static func fiscalYearStartMonth(on sql: any SQLDatabase) async throws -> Int {
        let row = try await sql.raw("SELECT value FROM settings WHERE name = 'fiscal_year_start_month'").first()
        return Int(try row?.decode(column: "value", as: String.self) ?? "1") ?? 1
    }

    /// The statement of a customer for a quarter. A past quarter's is issued on first request and
    /// stored; every later request returns the stored one unchanged. The quarter in progress is
    /// computed each time, marked provisional, and not stored. Whoever reads it, a statement is
    /// issued by the desk (`Actor.desk`): a read-only role never writes under its own name.
    public func statement(of customer: Customer.ID, quarter: Quarter, today: CalendarDate) async throws -> StatementDocument {
        try await statement(of: customer, quarter: quarter, today: today, issuer: .desk)
    }

    func statement(of requested: Customer.ID, quarter: Quarter, today: CalendarDate, issuer: Actor) async throws -> StatementDocument {
        if let stored = try await storedStatement(of: requested, quarter: quarter) { return stored }
        let recordedAt = self.recordedAt
        return try await database.write { sql in
            // Everything below uses the stored customer's id, never the requested text (hardening M1).
            let (customer, lots) = try await Self.customerWithLots(requested, on: sql)
            // Issued within this transaction, so two requests can't both issue it.
            if let stored = try await Self.storedStatement(of: customer.id, quarter: quarter, on: sql) { return stored }
            let availability = try Statements.issuing(quarter, of: customer.id, today: today,
                                                      firstPurchaseOn: lots.map(\.purchasedOn).min()).get()
            let issuable = availability == .issuable
            if issuable {
                // Expiries due in the quarter must be on the ledger before it is closed for good.
                _ = try await Self.expire(asOf: quarter.endsOn, customer: customer.id, actor: issuer, recordedAt: recordedAt, on: sql)
            }
            let statement = try await Self.computeStatement(of: customer.id, quarter: quarter, today: today, on: sql)
            let json = StatementFormat.json(statement)
            guard issuable else { return StatementDocument(statement: statement, json: json, issuedOn: nil) }
            try await sql.raw("""
                INSERT INTO statements (customer_id, quarter, issued_on, body)
                VALUES (\(bind: customer.id.rawValue), \(bind: quarter.description), \(bind: today.description), \(bind: json))
                """).run()
            return StatementDocument(statement: statement, json: json, issuedOn: today)
        }
    }

    func storedStatement(of customer: Customer.ID, quarter: Quarter) async throws -> StatementDocument? {
        try await database.read { sql in try await Self.storedStatement(of: customer, quarter: quarter, on: sql) }
    }

    static func storedStatement(of customer: Customer.ID, quarter: Quarter, on sql: any SQLDatabase) async throws -> StatementDocument? {
        guard let row = try await sql.raw("""
            SELECT * FROM statements WHERE customer_id = \(bind: customer.rawValue) AND quarter = \(bind: quarter.description)
            """).first() else { return nil }
        let json = try row.decode(column: "body", as: String.self)
        guard let statement = StatementFormat.decode(json) else {
            throw StoreError(.corruptRow, "stored statement \(customer) \(quarter) does not decode")
        }
        return StatementDocument(statement: statement, json: json, issuedOn: try Rows.date(row, "issued_on"))
    }

    static func computeStatement(of id: Customer.ID, quarter: Quarter, today: CalendarDate, on sql: any SQLDatabase) async throws -> Statement {
        let (customer, lots) = try await Self.customerWithLots(id, on: sql)
        // The programs the customer takes part in; a customer with no lots yet sees them all.
        var programs = Set(lots.map(\.program)).sorted()
        if programs.isEmpty {
            programs = try await sql.raw("SELECT id FROM programs ORDER BY id").all().map {
                Program.ID(try $0.decode(column: "id", as: String.self))
            }
        }
        return try Statements.compute(
            customer: customer, programs: programs, quarter: quarter, lots: lots,
            entries: try await Self.entries(of: id, through: quarter.endsOn, on: sql),
            engagements: try await Self.engagements(of: id, on: sql), today: today
        ).get()
    }
}

extension DeskStore {
    /// Desk-wide credit totals for monitoring: available, held, and the consumed and expired so far.
    public func creditTotals() async throws -> [String: Int] {
        try await database.read { sql in
            var totals: [String: Int] = [:]
            if let row = try await sql.raw("SELECT CAST(COALESCE(SUM(credits_available), 0) AS BIGINT) AS a, CAST(COALESCE(SUM(credits_held), 0) AS BIGINT) AS h FROM lots").first() {
                totals["available"] = try row.decode(column: "a", as: Int.self)
                totals["held"] = try row.decode(column: "h", as: Int.self)
            }
            for row in try await sql.raw("""
                SELECT kind, CAST(COALESCE(SUM(credits_available_delta + credits_held_delta), 0) AS BIGINT) AS total FROM ledger_entries
                WHERE kind IN ('delivery', 'expiry') GROUP BY kind
                """).all() {
                totals[try row.decode(column: "kind", as: String.self)] = -(try row.decode(column: "total", as: Int.self))
            }
            return totals
        }
    }

    /// Whether the database answers (readiness).
    public func ping() async throws {
        _ = try await database.read { sql in try await sql.raw("SELECT 1 AS one").first() }
    }
}

extension DeskStore {
    public struct StatementRun: Sendable, Codable {
        public let quarter: String
        public let issued: Int
        public let alreadyIssued: Int
    }

    /// R14's quarterly run: issues the statement of every customer for a past quarter. Each is
    /// its own transaction, so a run stopped half-way is simply run again; statements already
    /// issued are left as they are.
    public func issueStatements(
        quarter: Quarter, today: CalendarDate, actor: Actor, progress: @Sendable (Int, Int) -> Void = { _, _ in }
    ) async throws -> StatementRun {
        guard Statements.availability(of: quarter, today: today) == .issuable else {
            throw Rejection(.quarterNotStarted, "quarter \(quarter) ends on \(quarter.endsOn); statements are issued after it ends (today is \(today))")
        }
        let customers = try await self.customers()
        var issued = 0, already = 0
        for (index, customer) in customers.enumerated() {
            if try await storedStatement(of: customer.id, quarter: quarter) != nil {
                already += 1
            } else {
                do {
                    _ = try await statement(of: customer.id, quarter: quarter, today: today, issuer: actor)
                    issued += 1
                } catch let rejection as Rejection where rejection.code == .noStatement {
                    // A customer whose first lot came after the quarter has nothing to state for it.
                }
            }
            progress(index + 1, customers.count)
        }
        return StatementRun(quarter: quarter.description, issued: issued, alreadyIssued: already)
    }
}
