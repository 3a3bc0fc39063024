import CreditsCore
import Foundation
import SQLKit

/// The operations that change balances. Each is one transaction: load, decide (core), write.
/// The static forms run inside a transaction the caller holds (the API's idempotent writes).
extension DeskStore {
    /// One write transaction, with the time its ledger entries are recorded at.
    func recording<T: Sendable>(_ body: @escaping @Sendable (any SQLDatabase, String) async throws -> T) async throws -> T {
        let recordedAt = self.recordedAt
        return try await database.write { sql in try await body(sql, recordedAt) }
    }

    public func placeOrder(_ request: OrderRequest, today: CalendarDate, actor: Actor) async throws -> Order {
        try await recording { sql, recordedAt in try await Self.placeOrder(request, today: today, actor: actor, recordedAt: recordedAt, on: sql) }
    }

    public static func placeOrder(
        _ request: OrderRequest, today: CalendarDate, actor: Actor, recordedAt: String, on sql: any SQLDatabase
    ) async throws -> Order {
        let customer = try await Self.customer(request.customer, on: sql)
        let entity = try await Self.entity(request.entity, on: sql)
        let program = try await Self.program(request.program, on: sql)
        let used = try await sql.raw("""
            SELECT purchase_order FROM orders WHERE customer_id = \(bind: customer.id.rawValue)
            """).all().map { try $0.decode(column: "purchase_order", as: String.self) }
        let context = OrderContext(
            customer: customer, entity: entity, program: program, purchaseOrdersUsed: Set(used),
            orderID: Order.ID(try await Ledger.nextID("order", on: sql)),
            lotID: Lot.ID(try await Ledger.nextID("lot", on: sql)))
        let decision = try Orders.place(request, in: context, today: today, actor: actor).get()
        try await Ledger.insertLot(decision.lot, on: sql)
        try await Self.insertOrder(decision.order, on: sql)
        try await Ledger.append(decision.entries, expecting: [decision.lot], recordedAt: recordedAt, on: sql)
        return decision.order
    }

    static func insertOrder(_ order: Order, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO orders (id, customer_id, program_id, entity_id, purchase_order, blocks, ordered_on,
                credits, price_minor, lot_id, invoice_number, currency, amount_minor)
            VALUES (\(bind: order.id.rawValue), \(bind: order.customer.rawValue), \(bind: order.program.rawValue),
                \(bind: order.entity.rawValue), \(bind: order.purchaseOrder), \(bind: Rows.jsonText(order.blocks)),
                \(bind: order.orderedOn.description), \(bind: order.credits), \(bind: order.priceMinor),
                \(bind: order.lot.rawValue), \(bind: order.invoice.number), \(bind: order.invoice.currency),
                \(bind: order.invoice.amountMinor))
            """).run()
    }

    public func callOff(_ request: CallOffRequest, today: CalendarDate, actor: Actor) async throws -> Engagement {
        try await recording { sql, recordedAt in try await Self.callOff(request, today: today, actor: actor, recordedAt: recordedAt, on: sql) }
    }

    public static func callOff(
        _ request: CallOffRequest, today: CalendarDate, actor: Actor, recordedAt: String, on sql: any SQLDatabase
    ) async throws -> Engagement {
        let (customer, program, lots) = try await Self.callOffParties(request.customer, program: request.program, on: sql)
        let offering = try await request.offering.asyncMap { try await Self.offering($0, on: sql) }
        let context = CallOffContext(
            customer: customer, program: program, offering: offering, lots: lots,
            engagementID: Engagement.ID(try await Ledger.nextID("engagement", on: sql)))
        let decision = try CallOffs.callOff(request, in: context, today: today, actor: actor).get()
        try await Self.insertEngagement(decision.engagement, on: sql)
        try await Ledger.append(decision.entries, expecting: decision.lots, recordedAt: recordedAt, on: sql)
        return decision.engagement
    }

    /// The engagement and its draws, sent with the operation's other writes (`DeferringDatabase`).
    static func insertEngagement(_ engagement: Engagement, on sql: any SQLDatabase) async throws {
        precondition(!engagement.draws.isEmpty, "engagement \(engagement.id) draws from no lot")
        try await sql.later("""
            INSERT INTO engagements (id, customer_id, program_id, purchase_order, sow_reference, sow_signed_on,
                offering_id, title, kind, deliverables, credits, called_off_on, planned_end_on, status, status_changed_on)
            VALUES (\(bind: engagement.id.rawValue), \(bind: engagement.customer.rawValue),
                \(bind: engagement.program.rawValue), \(bind: engagement.purchaseOrder), \(bind: engagement.sowReference),
                \(bind: engagement.sowSignedOn.description), \(bind: engagement.offering?.rawValue),
                \(bind: engagement.title), \(bind: engagement.kind.rawValue), \(bind: Rows.jsonText(engagement.deliverables)),
                \(bind: engagement.credits), \(bind: engagement.calledOffOn.description),
                \(bind: engagement.plannedEndOn.description), \(bind: engagement.status.rawValue),
                \(bind: engagement.statusChangedOn.description))
            """)
        let draws: [SQLQueryString] = engagement.draws.map {
            "(\(bind: engagement.id.rawValue), \(bind: $0.lot.rawValue), \(bind: $0.credits))"
        }
        try await sql.later("INSERT INTO draws (engagement_id, lot_id, credits) VALUES " + draws.joined(separator: ", "))
    }

    public enum EngagementAction: String, Sendable, CaseIterable {
        case start, deliver, cancel
    }

    /// Moves an engagement along its life (R13), writing the deliveries or returns it causes.
    public func transition(
        _ id: Engagement.ID, _ action: EngagementAction, reason: String? = nil, today: CalendarDate, actor: Actor
    ) async throws -> Engagement {
        try await recording { sql, recordedAt in try await Self.transition(id, action, reason: reason, today: today, actor: actor, recordedAt: recordedAt, on: sql) }
    }

    public static func transition(
        _ id: Engagement.ID, _ action: EngagementAction, reason: String?, today: CalendarDate, actor: Actor,
        recordedAt: String, on sql: any SQLDatabase
    ) async throws -> Engagement {
        let engagement = try await Self.engagement(id, on: sql)
        let lots = try await Self.lots(of: engagement.customer, program: engagement.program, on: sql)
        let lotsByID = Dictionary(uniqueKeysWithValues: lots.map { ($0.id, $0) })
        let transition = try {
            switch action {
            case .start: try Engagements.start(engagement, today: today).get()
            case .deliver: try Engagements.deliver(engagement, lots: lotsByID, today: today, actor: actor).get()
            case .cancel:
                try Engagements.cancel(engagement, lots: lotsByID, today: today, actor: actor, reason: reason).get()
            }
        }()
        try await sql.raw("""
            UPDATE engagements SET status = \(bind: transition.engagement.status.rawValue),
                status_changed_on = \(bind: today.description) WHERE id = \(bind: id.rawValue)
            """).run()
        try await Ledger.append(transition.entries, expecting: transition.lots, recordedAt: recordedAt, on: sql)
        return transition.engagement
    }

    /// R7: expires what is due by `asOf`, for every customer (or one). Running it twice writes
    /// nothing the second time. Returns the entries written.
    @discardableResult
    public func expire(asOf: CalendarDate, customer: Customer.ID? = nil, actor: Actor) async throws -> [LedgerEntry] {
        try await recording { sql, recordedAt in try await Self.expire(asOf: asOf, customer: customer, actor: actor, recordedAt: recordedAt, on: sql) }
    }

    public static func expire(
        asOf: CalendarDate, customer: Customer.ID?, actor: Actor, recordedAt: String, on sql: any SQLDatabase
    ) async throws -> [LedgerEntry] {
        let filter: SQLQueryString = customer.map { " AND customer_id = \(bind: $0.rawValue)" } ?? ""
        let lots = try await sql.raw("""
            SELECT * FROM lots WHERE expires_on <= \(bind: asOf.description) AND credits_available > 0\(filter)
            ORDER BY id
            """).all().map(Rows.lot)
        let entries = Expiry.due(lots: lots, asOf: asOf, actor: actor)
        let byID = Dictionary(uniqueKeysWithValues: lots.map { ($0.id, $0) })
        let expected = entries.map { byID[$0.lot]!.applying($0) }
        try await Ledger.append(entries, expecting: expected, recordedAt: recordedAt, on: sql)
        return entries
    }

    public func adjust(_ request: AdjustmentRequest, today: CalendarDate, actor: Actor) async throws -> AdjustmentDecision {
        try await recording { sql, recordedAt in try await Self.adjust(request, today: today, actor: actor, recordedAt: recordedAt, on: sql) }
    }

    public static func adjust(
        _ request: AdjustmentRequest, today: CalendarDate, actor: Actor, recordedAt: String, on sql: any SQLDatabase
    ) async throws -> AdjustmentDecision {
        let customer = try await Self.customer(request.customer, on: sql)
        let lot = try await request.lot.asyncMap { try await Self.lot($0, on: sql) }
        let program = try await request.program.asyncMap { try await Self.program($0, on: sql) }
        let newLotID = Lot.ID(try await Ledger.nextID("lot", on: sql))
        let decision = try Adjustments.adjust(
            request, customer: customer, lot: lot, program: program, newLotID: newLotID, today: today,
            actor: actor
        ).get()
        if decision.isNewLot { try await Ledger.insertLot(decision.lot, on: sql) }
        try await Ledger.append(decision.entries, expecting: [decision.lot], recordedAt: recordedAt, on: sql)
        return decision
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
