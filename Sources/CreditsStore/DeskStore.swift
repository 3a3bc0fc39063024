import CreditsCore
import Foundation
import SQLKit

/// The desk's persistence: loads the state an operation needs, asks the core, and writes the
/// decision, all inside one transaction. Rule checks live in `CreditsCore`, never here; the store
/// only adds what needs the database (unknown references, uniqueness it can see).
///
/// Operations throw `Rejection` when the rules say no (nothing is written) and `StoreError` or a
/// driver error when the infrastructure fails.
public struct DeskStore: Sendable {
    public let database: DeskDatabase
    /// The clock for entry timestamps; business dates come in as `today` parameters.
    let now: @Sendable () -> Date

    public init(database: DeskDatabase, now: @escaping @Sendable () -> Date = { Date() }) {
        self.database = database
        self.now = now
    }

    var recordedAt: String { LedgerChain.timestamp(now()) }

    // MARK: Loading

    static func customer(_ id: Customer.ID, on sql: any SQLDatabase) async throws -> Customer {
        guard let row = try await sql.raw("SELECT * FROM customers WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownCustomer, "no customer \(id)")
        }
        return try Rows.customer(row)
    }

    static func program(_ id: Program.ID, on sql: any SQLDatabase) async throws -> Program {
        guard let row = try await sql.raw("SELECT * FROM programs WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownProgram, "no program \(id); the programs are PSC and FSC")
        }
        return try Rows.program(row)
    }

    static func entity(_ id: Entity.ID, on sql: any SQLDatabase) async throws -> Entity {
        guard let row = try await sql.raw("SELECT * FROM entities WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownEntity, "no entity \(id)")
        }
        let prices = try await sql.raw("""
            SELECT * FROM list_prices WHERE entity_id = \(bind: id.rawValue) ORDER BY program_id, effective_on
            """).all().map { row in
            ListPrice(program: Program.ID(try row.decode(column: "program_id", as: String.self)),
                      priceMinor: try row.decode(column: "price_minor", as: Int.self),
                      effectiveOn: try Rows.date(row, "effective_on"))
        }
        return Entity(
            id: id, name: try row.decode(column: "name", as: String.self),
            currency: try row.decode(column: "currency", as: String.self),
            currencyExponent: try row.decode(column: "currency_exponent", as: Int.self), prices: prices)
    }

    static func offering(_ id: Offering.ID, on sql: any SQLDatabase) async throws -> Offering {
        guard let row = try await sql.raw("SELECT * FROM offerings WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownOffering, "no offering \(id) in the catalog")
        }
        return try Rows.offering(row)
    }

    static func lot(_ id: Lot.ID, on sql: any SQLDatabase) async throws -> Lot {
        guard let row = try await sql.raw("SELECT * FROM lots WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownLot, "no lot \(id)")
        }
        return try Rows.lot(row)
    }

    /// The customer and all its lots in one statement: a row per lot, or one row with no lot.
    static func customerWithLots(_ id: Customer.ID, on sql: any SQLDatabase) async throws -> (customer: Customer, lots: [Lot]) {
        let rows = try await sql.raw("""
            SELECT c.name AS customer_name, c.entity_id AS customer_entity, l.* FROM customers c
            LEFT JOIN lots l ON l.customer_id = c.id
            WHERE c.id = \(bind: id.rawValue) ORDER BY l.id LIMIT \(unsafeRaw: String(Limits.lotsPerCustomerMax))
            """).all()
        guard let first = rows.first else { throw Rejection(.unknownCustomer, "no customer \(id)") }
        let customer = Customer(
            id: id, name: try first.decode(column: "customer_name", as: String.self),
            entity: Entity.ID(try first.decode(column: "customer_entity", as: String.self)))
        let lots = try rows.compactMap(Rows.lotIfAny)
        return (customer, lots)
    }

    /// What a call-off decides on: the customer, the program, and the customer's lots of that
    /// program. In a batch, as read ahead for all its call-offs, while still good. No parties
    /// means an unknown customer or program, and the two single reads say which, in the order a
    /// call-off checks them.
    static func callOffParties(
        _ id: Customer.ID, program programID: Program.ID, on sql: any SQLDatabase
    ) async throws -> (customer: Customer, program: Program, lots: [Lot]) {
        let target = CallOffTarget(customer: id, program: programID)
        var parties = BatchMemory.current?.knownParties(target)
        if parties == nil { parties = try await callOffParties([target], on: sql)[target] }
        guard let parties else {
            _ = try await customer(id, on: sql)
            _ = try await program(programID, on: sql)
            throw StoreError(.corruptRow, "customer \(id) and program \(programID) exist but their join is empty")
        }
        return (parties.customer, parties.program, parties.lots)
    }

    /// The parties of `targets`' call-offs, in one statement: a row per lot, or one with no lot
    /// for a customer without lots of that program. The program's columns are renamed so they
    /// don't meet the lot's. Unknown customers and programs have no row, so no parties.
    static func callOffParties(_ targets: Set<CallOffTarget>, on sql: any SQLDatabase) async throws -> [CallOffTarget: CallOffParties] {
        guard !targets.isEmpty else { return [:] }
        let matches: [SQLQueryString] = targets.map { "(c.id = \(bind: $0.customer.rawValue) AND p.id = \(bind: $0.program.rawValue))" }
        // One party's lots past the bound are cut, as in every read of a customer's lots. A read
        // for several that goes past it may have cut one party short for another's, so it is not
        // used: each call-off then reads its own.
        let rowsMax = targets.count * Limits.lotsPerCustomerMax
        let limit = targets.count == 1 ? rowsMax : rowsMax + 1
        let rows = try await sql.raw("""
            SELECT c.id AS party_customer, c.name AS customer_name, c.entity_id AS customer_entity, p.id AS prog_id,
                p.name AS prog_name, p.block_sizes AS prog_block_sizes, p.order_credits_min AS prog_order_credits_min,
                p.term_months AS prog_term_months, p.call_off_credits_min AS prog_call_off_credits_min,
                p.engagement_kinds AS prog_engagement_kinds, l.*
            FROM customers c CROSS JOIN programs p
            LEFT JOIN lots l ON l.customer_id = c.id AND l.program_id = p.id
            WHERE
            """ + " (" + matches.joined(separator: " OR ") + ") ORDER BY c.id, p.id, l.id LIMIT \(unsafeRaw: String(limit))").all()
        guard rows.count <= rowsMax else { return [:] }
        // Lots are gathered apart and each party built once, so a party's many rows stay linear.
        var heads: [CallOffTarget: (customer: Customer, program: Program)] = [:]
        var lots: [CallOffTarget: [Lot]] = [:]
        for row in rows {
            let target = CallOffTarget(customer: Customer.ID(try row.decode(column: "party_customer", as: String.self)),
                                       program: Program.ID(try row.decode(column: "prog_id", as: String.self)))
            if heads[target] == nil {
                let customer = Customer(
                    id: target.customer, name: try row.decode(column: "customer_name", as: String.self),
                    entity: Entity.ID(try row.decode(column: "customer_entity", as: String.self)))
                heads[target] = (customer, try Rows.program(row, prefix: "prog_"))
            }
            if let lot = try Rows.lotIfAny(row) { lots[target, default: []].append(lot) }
        }
        var parties: [CallOffTarget: CallOffParties] = [:]
        for (target, head) in heads {
            parties[target] = CallOffParties(customer: head.customer, program: head.program, lots: lots[target] ?? [])
        }
        return parties
    }

    /// A customer's lots of one program, by id. Inside a write transaction no other writer can
    /// change them until it commits (writers are serialised, see `DeskDatabase`).
    static func lots(of customer: Customer.ID, program: Program.ID, on sql: any SQLDatabase) async throws -> [Lot] {
        let rows = try await sql.raw("""
            SELECT * FROM lots WHERE customer_id = \(bind: customer.rawValue) AND program_id = \(bind: program.rawValue)
            ORDER BY id LIMIT \(unsafeRaw: String(Limits.lotsPerCustomerMax))
            """).all()
        return try rows.map(Rows.lot)
    }

    static func engagement(_ id: Engagement.ID, on sql: any SQLDatabase) async throws -> Engagement {
        guard let row = try await sql.raw("SELECT * FROM engagements WHERE id = \(bind: id.rawValue)").first() else {
            throw Rejection(.unknownEngagement, "no engagement \(id)")
        }
        let draws = try await sql.raw("""
            SELECT * FROM draws WHERE engagement_id = \(bind: id.rawValue) ORDER BY lot_id
            """).all().map { Draw(lot: Lot.ID(try $0.decode(column: "lot_id", as: Int.self)),
                                  credits: try $0.decode(column: "credits", as: Int.self)) }
        return try Rows.engagement(row, draws: draws)
    }

    static func engagements(of customer: Customer.ID, on sql: any SQLDatabase) async throws -> [Engagement] {
        let rows = try await sql.raw("""
            SELECT * FROM engagements WHERE customer_id = \(bind: customer.rawValue) ORDER BY id
            """).all()
        let drawRows = try await sql.raw("""
            SELECT d.* FROM draws d JOIN engagements e ON e.id = d.engagement_id
            WHERE e.customer_id = \(bind: customer.rawValue) ORDER BY d.engagement_id, d.lot_id
            """).all()
        var draws: [Int: [Draw]] = [:]
        for row in drawRows {
            draws[try row.decode(column: "engagement_id", as: Int.self), default: []].append(
                Draw(lot: Lot.ID(try row.decode(column: "lot_id", as: Int.self)),
                     credits: try row.decode(column: "credits", as: Int.self)))
        }
        return try rows.map { try Rows.engagement($0, draws: draws[try $0.decode(column: "id", as: Int.self)] ?? []) }
    }

    static func entries(of customer: Customer.ID, through date: CalendarDate, on sql: any SQLDatabase) async throws -> [LedgerEntry] {
        try await sql.raw("""
            SELECT * FROM ledger_entries WHERE customer_id = \(bind: customer.rawValue)
            AND effective_on <= \(bind: date.description) ORDER BY seq
            """).all().map { try Rows.recordedEntry($0).entry }
    }
}
