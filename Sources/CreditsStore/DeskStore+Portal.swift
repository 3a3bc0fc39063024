import CreditsCore
import Foundation
import SQLKit

/// Reads the portal's vendor and finance pages need: whole-desk lists, paged.
extension DeskStore {
    /// A customer with its balances summed over programs, for the vendor's customer list.
    public struct CustomerOverview: Sendable {
        public let customer: Customer
        public let creditsAvailable: Int
        public let creditsHeld: Int
        /// R15: available credits that expire within 90 days.
        public let creditsAtRisk: Int
        public let nextExpiryOn: CalendarDate?
    }

    /// Customers in id order after `afterCustomer` (only those in `only`, when given), with their
    /// balances as of `today`.
    public func overview(
        today: CalendarDate, afterCustomer: String = "", limit: Int = 100, only: Set<Customer.ID>? = nil
    ) async throws -> [CustomerOverview] {
        try await database.read { sql in
            var filter: SQLQueryString = ""
            if let only {
                guard !only.isEmpty else { return [] }
                filter = " AND id IN (\(binds: only.sorted().prefix(Limits.lotsPerCustomerMax).map(\.rawValue)))"
            }
            let customers = try await sql.raw("""
                SELECT * FROM customers WHERE id > \(bind: afterCustomer)\(filter) ORDER BY id LIMIT \(bind: min(max(limit, 1), 1_000))
                """).all().map(Rows.customer)
            guard let first = customers.first, let last = customers.last else { return [] }
            let lots = try await sql.raw("""
                SELECT * FROM lots WHERE customer_id >= \(bind: first.id.rawValue) AND customer_id <= \(bind: last.id.rawValue)
                """).all().map(Rows.lot)
            let byCustomer = Dictionary(grouping: lots, by: \.customer)
            let programs = try await Self.programIDs(on: sql)
            return customers.map { customer in
                let balances = Balances.of(lots: byCustomer[customer.id] ?? [], programs: programs, today: today)
                return CustomerOverview(
                    customer: customer,
                    creditsAvailable: balances.reduce(0) { $0 + $1.creditsAvailable },
                    creditsHeld: balances.reduce(0) { $0 + $1.creditsHeld },
                    creditsAtRisk: balances.reduce(0) { $0 + $1.creditsExpiringWithin90Days },
                    nextExpiryOn: balances.compactMap(\.nextExpiryOn).min())
            }
        }
    }

    /// Orders (each with its invoice) dated within the period, optionally of one entity.
    public func invoices(from: CalendarDate, to: CalendarDate, entity: Entity.ID?, limit: Int = 1_000) async throws -> [Order] {
        try await database.read { sql in
            let filter: SQLQueryString = entity.map { " AND entity_id = \(bind: $0.rawValue)" } ?? ""
            return try await sql.raw("""
                SELECT * FROM orders WHERE ordered_on >= \(bind: from.description) AND ordered_on <= \(bind: to.description)\(filter)
                ORDER BY ordered_on, id LIMIT \(bind: min(max(limit, 1), 10_000))
                """).all().map(Rows.order)
        }
    }

    /// Every ledger entry of one customer (up to the per-customer bound), for its burn-down.
    public func history(of customer: Customer.ID) async throws -> [LedgerEntry] {
        try await ledger(customer: customer, limit: 10_000).map(\.entry)
    }
}

/// The ledger as a spreadsheet reads it.
public enum LedgerFormat {
    public static func csv(_ entries: [RecordedEntry]) -> String {
        var lines = ["seq,effective_on,kind,customer,program,lot,available_delta,held_delta,document,actor,reason,recorded_at"]
        for recorded in entries {
            let entry = recorded.entry
            lines.append(StatementFormat.row([
                String(recorded.seq), entry.effectiveOn.description, entry.kind.rawValue, entry.customer.rawValue,
                entry.program.rawValue, String(entry.lot.rawValue), String(entry.creditsAvailableDelta),
                String(entry.creditsHeldDelta), entry.document, entry.actor, entry.reason, recorded.recordedAt,
            ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
