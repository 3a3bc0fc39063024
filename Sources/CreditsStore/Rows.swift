import CreditsCore
import Foundation
import SQLKit

/// Reading records back from rows. A row that doesn't decode is a corrupt database, not bad input.
enum Rows {
    static func date(_ row: any SQLRow, _ column: String) throws -> CalendarDate {
        let text = try row.decode(column: column, as: String.self)
        guard let date = CalendarDate(text) else {
            throw StoreError(.corruptRow, "column \(column) holds '\(text)', not a date")
        }
        return date
    }

    static func optionalDate(_ row: any SQLRow, _ column: String) throws -> CalendarDate? {
        try row.decodeNil(column: column) ? nil : date(row, column)
    }

    static func json<T: Decodable>(_ row: any SQLRow, _ column: String, as type: T.Type) throws -> T {
        let text = try row.decode(column: column, as: String.self)
        do {
            return try JSONDecoder().decode(type, from: Data(text.utf8))
        } catch {
            throw StoreError(.corruptRow, "column \(column) holds '\(text.prefix(80))', not \(type)")
        }
    }

    static func enumeration<T: RawRepresentable>(_ row: any SQLRow, _ column: String, as type: T.Type) throws -> T
    where T.RawValue == String {
        let text = try row.decode(column: column, as: String.self)
        guard let value = T(rawValue: text) else {
            throw StoreError(.corruptRow, "column \(column) holds '\(text)', not a \(type)")
        }
        return value
    }

    static func jsonText<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try! encoder.encode(value), as: UTF8.self)
    }

    /// The lot of a row that joins lots to something else, or nil where the join found none.
    static func lotIfAny(_ row: any SQLRow) throws -> Lot? {
        try row.decode(column: "id", as: Int?.self) == nil ? nil : try lot(row)
    }

    static func lot(_ row: any SQLRow) throws -> Lot {
        let id = try row.decode(column: "id", as: Int.self)
        let granted = try row.decode(column: "credits_granted", as: Int.self)
        let available = try row.decode(column: "credits_available", as: Int.self)
        let held = try row.decode(column: "credits_held", as: Int.self)
        if let violation = Lot.invariantViolation(granted: granted, available: available, held: held) {
            throw StoreError(.corruptRow, "lot \(id) breaks R16: \(violation); run `credits verify`")
        }
        let lot = Lot(
            id: Lot.ID(id),
            customer: Customer.ID(try row.decode(column: "customer_id", as: String.self)),
            program: Program.ID(try row.decode(column: "program_id", as: String.self)),
            source: try enumeration(row, "source", as: Lot.Source.self),
            purchasedOn: try date(row, "purchased_on"), expiresOn: try date(row, "expires_on"),
            creditsGranted: granted, creditsAvailable: available, creditsHeld: held)
        return lot
    }

    static func customer(_ row: any SQLRow) throws -> Customer {
        Customer(
            id: Customer.ID(try row.decode(column: "id", as: String.self)),
            name: try row.decode(column: "name", as: String.self),
            entity: Entity.ID(try row.decode(column: "entity_id", as: String.self)))
    }

    /// A program's row; `prefix` is what its columns' names start with where a join renamed them.
    static func program(_ row: any SQLRow, prefix: String = "") throws -> Program {
        Program(
            id: Program.ID(try row.decode(column: prefix + "id", as: String.self)),
            name: try row.decode(column: prefix + "name", as: String.self),
            blockSizes: try json(row, prefix + "block_sizes", as: [Int].self),
            orderCreditsMin: try row.decode(column: prefix + "order_credits_min", as: Int.self),
            termMonths: try row.decode(column: prefix + "term_months", as: Int.self),
            callOffCreditsMin: try row.decode(column: prefix + "call_off_credits_min", as: Int.self),
            engagementKinds: try json(row, prefix + "engagement_kinds", as: [EngagementKind].self))
    }

    static func offering(_ row: any SQLRow) throws -> Offering {
        Offering(
            id: Offering.ID(try row.decode(column: "id", as: String.self)),
            name: try row.decode(column: "name", as: String.self),
            kind: try enumeration(row, "kind", as: EngagementKind.self),
            pricing: try enumeration(row, "pricing", as: Pricing.self),
            credits: try row.decode(column: "credits", as: Int.self),
            deliverables: try json(row, "deliverables", as: [String].self),
            entities: try json(row, "entities", as: [Entity.ID].self))
    }

    static func order(_ row: any SQLRow) throws -> Order {
        let id = Order.ID(try row.decode(column: "id", as: Int.self))
        let orderedOn = try date(row, "ordered_on")
        return Order(
            id: id, customer: Customer.ID(try row.decode(column: "customer_id", as: String.self)),
            program: Program.ID(try row.decode(column: "program_id", as: String.self)),
            entity: Entity.ID(try row.decode(column: "entity_id", as: String.self)),
            purchaseOrder: try row.decode(column: "purchase_order", as: String.self),
            blocks: try json(row, "blocks", as: [BlockLine].self), orderedOn: orderedOn,
            credits: try row.decode(column: "credits", as: Int.self),
            priceMinor: try row.decode(column: "price_minor", as: Int.self),
            lot: Lot.ID(try row.decode(column: "lot_id", as: Int.self)),
            invoice: Invoice(
                number: try row.decode(column: "invoice_number", as: String.self), issuedOn: orderedOn,
                currency: try row.decode(column: "currency", as: String.self),
                amountMinor: try row.decode(column: "amount_minor", as: Int.self)))
    }

    static func engagement(_ row: any SQLRow, draws: [Draw]) throws -> Engagement {
        let offering = try row.decodeNil(column: "offering_id") ? nil : try row.decode(column: "offering_id", as: String.self)
        return Engagement(
            id: Engagement.ID(try row.decode(column: "id", as: Int.self)),
            customer: Customer.ID(try row.decode(column: "customer_id", as: String.self)),
            program: Program.ID(try row.decode(column: "program_id", as: String.self)),
            purchaseOrder: try row.decode(column: "purchase_order", as: String.self),
            sowReference: try row.decode(column: "sow_reference", as: String.self),
            sowSignedOn: try date(row, "sow_signed_on"), offering: offering.map(Offering.ID.init),
            title: try row.decode(column: "title", as: String.self),
            kind: try enumeration(row, "kind", as: EngagementKind.self),
            deliverables: try json(row, "deliverables", as: [String].self),
            credits: try row.decode(column: "credits", as: Int.self),
            calledOffOn: try date(row, "called_off_on"), plannedEndOn: try date(row, "planned_end_on"),
            draws: draws, status: try enumeration(row, "status", as: Engagement.Status.self),
            statusChangedOn: try date(row, "status_changed_on"))
    }

    static func recordedEntry(_ row: any SQLRow) throws -> RecordedEntry {
        let kind = try enumeration(row, "kind", as: LedgerEntry.Kind.self)
        let available = try row.decode(column: "credits_available_delta", as: Int.self)
        let held = try row.decode(column: "credits_held_delta", as: Int.self)
        let seq = try row.decode(column: "seq", as: Int.self)
        // NB: a hand-edited row may have a shape the core would never write; report it as
        // corrupt rather than trip the core's precondition.
        guard LedgerEntry.hasValidShape(kind: kind, available: available, held: held) else {
            throw StoreError(.corruptRow, "ledger entry \(seq): a \(kind.rawValue) entry can't move available \(available), held \(held)")
        }
        let entry = LedgerEntry(
            kind: kind, lot: Lot.ID(try row.decode(column: "lot_id", as: Int.self)),
            customer: Customer.ID(try row.decode(column: "customer_id", as: String.self)),
            program: Program.ID(try row.decode(column: "program_id", as: String.self)),
            creditsAvailableDelta: available, creditsHeldDelta: held,
            effectiveOn: try date(row, "effective_on"), actor: try row.decode(column: "actor", as: String.self),
            reason: try row.decode(column: "reason", as: String.self),
            document: try row.decode(column: "document", as: String.self))
        return RecordedEntry(
            seq: seq, entry: entry, recordedAt: try row.decode(column: "recorded_at", as: String.self),
            prevHash: try row.decode(column: "prev_hash", as: String.self),
            hash: try row.decode(column: "hash", as: String.self))
    }
}
