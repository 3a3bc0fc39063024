import CreditsCore
import CreditsStore
import Foundation
import SQLKit
import Testing

/// A fresh desk — a real SQLite file, or a fresh schema on the PostgreSQL server named by
/// `CREDITS_TEST_DATABASE` — with one entity, two customers, two offerings and list prices.
/// Discarded by `withDesk` on every exit path.
struct StoreHarness {
    let store: DeskStore
    let scratch: ScratchDesk

    static let ops = Actor(name: "ops", role: .operations)
    static func date(_ text: String) -> CalendarDate { CalendarDate(text)! }

    static func withDesk(_ body: (StoreHarness) async throws -> Void) async throws {
        let scratch = try await ScratchDesk.make()
        let harness = StoreHarness(store: DeskStore(database: scratch.database), scratch: scratch)
        do {
            try await harness.seedCatalog()
            try await body(harness)
        } catch {
            await scratch.discard()
            throw error
        }
        await scratch.discard()
    }

    var isPostgres: Bool { store.database.engineName == "postgresql" }

    /// Removes the triggers that keep the ledger append-only, as someone with the database could.
    func dropAppendOnlyGuards(on sql: any SQLDatabase) async throws {
        let suffix = isPostgres ? " ON ledger_entries" : ""
        for trigger in ["ledger_entries_no_update", "ledger_entries_no_delete"] {
            try await sql.raw(SQLQueryString("DROP TRIGGER \(trigger)\(suffix)")).run()
        }
    }

    func seedCatalog() async throws {
        try await store.addEntity(Entity(id: "JN-DE", name: "Vendor GmbH", currency: "EUR", prices: [
            ListPrice(program: "PSC", priceMinor: 140_000, effectiveOn: Self.date("2020-01-01")),
            ListPrice(program: "FSC", priceMinor: 130_000, effectiveOn: Self.date("2020-01-01")),
        ]))
        try await store.addEntity(Entity(id: "JN-US", name: "Vendor Inc", currency: "USD", prices: [
            ListPrice(program: "PSC", priceMinor: 150_000, effectiveOn: Self.date("2020-01-01")),
        ]))
        try await store.addCustomer(Customer(id: "acme", name: "Acme", entity: "JN-DE"))
        try await store.addCustomer(Customer(id: "globex", name: "Globex", entity: "JN-US"))
        try await store.addOffering(Offering(id: "assess", name: "Assessment", kind: .assessment, pricing: .fixedScope,
                                             credits: 10, deliverables: ["Report"], entities: ["JN-DE", "JN-US"]))
        try await store.addOffering(Offering(id: "us-only", name: "US migration", kind: .migration, pricing: .fixedScope,
                                             credits: 20, deliverables: ["Plan"], entities: ["JN-US"]))
    }

    @discardableResult
    func order(_ credits: Int, customer: Customer.ID = "acme", po: String, on day: String, program: Program.ID = "PSC") async throws -> Order {
        let entity: Entity.ID = customer == "acme" ? "JN-DE" : "JN-US"
        return try await store.placeOrder(
            OrderRequest(customer: customer, program: program, entity: entity, purchaseOrder: po,
                         blocks: [BlockLine(size: 1, count: credits)]),
            today: Self.date(day), actor: Self.ops)
    }

    func callOff(
        _ credits: Int, customer: Customer.ID = "acme", on day: String, plannedEnd: String, program: Program.ID = "PSC"
    ) async throws -> Engagement {
        try await store.callOff(Self.callOffRequest(credits, customer: customer, on: day, plannedEnd: plannedEnd, program: program),
                                today: Self.date(day), actor: Self.ops)
    }

    static func callOffRequest(
        _ credits: Int, customer: Customer.ID = "acme", on day: String, plannedEnd: String, program: Program.ID = "PSC"
    ) -> CallOffRequest {
        CallOffRequest(customer: customer, program: program, purchaseOrder: "PO-CO", sowReference: "SOW-1",
                       sowSignedOn: date(day),
                       custom: CustomEngagement(title: "Design", kind: .design, pricing: .fixedScope,
                                                deliverables: ["HLD"], credits: credits),
                       plannedEndOn: date(plannedEnd))
    }

    /// Everything a rejected operation must leave untouched.
    struct Snapshot: Equatable {
        let entries: [RecordedEntry]
        let lots: String
        let counters: String
    }

    func snapshot() async throws -> Snapshot {
        let entries = try await store.ledger(limit: 10_000)
        let (lots, counters) = try await store.database.read { sql in
            let lots = try await sql.raw("SELECT id, credits_available, credits_held FROM lots ORDER BY id").all().map {
                "\(try $0.decode(column: "id", as: Int.self)):\(try $0.decode(column: "credits_available", as: Int.self))/\(try $0.decode(column: "credits_held", as: Int.self))"
            }.joined(separator: ",")
            let counters = try await sql.raw("SELECT name, next_value FROM id_counters ORDER BY name").all().map {
                "\(try $0.decode(column: "name", as: String.self))=\(try $0.decode(column: "next_value", as: Int.self))"
            }.joined(separator: ",")
            return (lots, counters)
        }
        return Snapshot(entries: entries, lots: lots, counters: counters)
    }
}

func rejectionCode(_ body: () async throws -> Void) async -> RejectionCode? {
    do {
        try await body()
        return nil
    } catch let rejection as Rejection {
        return rejection.code
    } catch {
        Issue.record("expected a rejection, got \(error)")
        return nil
    }
}
