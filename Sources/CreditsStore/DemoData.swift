import CreditsCore
import Foundation

/// Loads a realistic desk: four selling entities, a catalog, twenty customers and two years of
/// orders, call-offs, deliveries, cancellations, expiries and issued statements, all through the
/// same operations a user runs, so the demo ledger verifies like any other.
public struct DemoData {
    public struct Summary: Sendable, Codable {
        public var customers = 0
        public var orders = 0
        public var callOffs = 0
        public var deliveries = 0
        public var cancellations = 0
        public var expiredCredits = 0
        public var statementsIssued = 0
        public var refusedByRules = 0
    }

    let store: DeskStore
    let today: CalendarDate
    var random = SeededGenerator(seed: 20_261_129)
    var summary = Summary()
    /// Set once by `setUpCatalog`: the simulation reads it every day, the database once.
    var customers: [Customer] = []
    let actor = Actor(name: "demo", role: .operations)

    public init(store: DeskStore, today: CalendarDate) {
        self.store = store
        self.today = today
    }

    static let entities: [(String, String, String, Int, Int, Int)] = [
        // code, name, currency, exponent, PSC price, FSC price (minor units per credit)
        ("JN-US", "Vendor Networks Inc. (United States)", "USD", 2, 150_000, 140_000),
        ("JN-DE", "Vendor Networks GmbH (Germany)", "EUR", 2, 140_000, 130_000),
        ("JN-UK", "Vendor Networks Ltd (United Kingdom)", "GBP", 2, 120_000, 112_000),
        ("JN-JP", "Vendor Networks K.K. (Japan)", "JPY", 0, 210_000, 195_000),
    ]

    static let customerNames = [
        "Acme Telecom", "Borealis Bank", "Cobalt Logistics", "Delta Health", "Evergreen Energy",
        "Fjord Shipping", "Granite Insurance", "Helios Retail", "Iris University", "Juniper Valley Water",
        "Kestrel Airlines", "Lumen Media", "Meridian Hotels", "Nimbus Cloud", "Orion Manufacturing",
        "Pioneer Rail", "Quartz Semiconductors", "Riverside City Council", "Summit Pharma", "Tidal Ports",
    ]

    public mutating func load() async throws -> Summary {
        guard try await store.customers().isEmpty else {
            throw Rejection(.alreadyExists, "the desk already has customers; load the demo into a new database")
        }
        let start = today.adding(months: -24)
        try await setUpCatalog(from: start)
        var day = start
        while day <= today {
            if day.day == 1 {
                summary.expiredCredits -= try await store.expire(asOf: day, actor: actor).reduce(0) { $0 + $1.creditsAvailableDelta }
                if (day.month - 1) % 3 == 0 {
                    let run = try await store.issueStatements(quarter: Quarter(containing: day.adding(days: -1)), today: day, actor: actor)
                    summary.statementsIssued += run.issued
                }
            }
            try await simulate(day)
            day = day.adding(days: 1)
        }
        summary.expiredCredits -= try await store.expire(asOf: today, actor: actor).reduce(0) { $0 + $1.creditsAvailableDelta }
        return summary
    }

    mutating func setUpCatalog(from start: CalendarDate) async throws {
        for (code, name, currency, exponent, psc, fsc) in Self.entities {
            try await store.addEntity(Entity(
                id: Entity.ID(code), name: name, currency: currency, currencyExponent: exponent,
                prices: [ListPrice(program: "PSC", priceMinor: psc, effectiveOn: start),
                         ListPrice(program: "FSC", priceMinor: fsc, effectiveOn: start),
                         // A list price rise a year in: orders after it pay the new price.
                         ListPrice(program: "PSC", priceMinor: psc + psc / 20, effectiveOn: start.adding(months: 12))]))
        }
        let all: [Entity.ID] = Self.entities.map { Entity.ID($0.0) }
        let offerings = [
            Offering(id: "net-assess", name: "Network assessment", kind: .assessment, pricing: .fixedScope, credits: 10,
                     deliverables: ["Current-state report", "Technology roadmap"], entities: all),
            Offering(id: "dc-design", name: "Data centre fabric design", kind: .design, pricing: .fixedScope, credits: 25,
                     deliverables: ["High-level design", "Low-level design", "Validation plan"], entities: all),
            Offering(id: "campus-deploy", name: "Campus deployment", kind: .deployment, pricing: .fixedScope, credits: 40,
                     deliverables: ["Configured devices", "As-built document"], entities: all),
            Offering(id: "wan-migrate", name: "WAN migration", kind: .migration, pricing: .fixedScope, credits: 50,
                     deliverables: ["Migration plan", "Cut-over", "Post-migration report"],
                     entities: ["JN-US", "JN-DE", "JN-UK"]),
            Offering(id: "sec-review", name: "Security policy review", kind: .other, pricing: .fixedScope, credits: 15,
                     deliverables: ["Policy findings"], entities: all),
            Offering(id: "resident-eng", name: "Resident engineer (per day)", kind: .deployment, pricing: .durationBased,
                     credits: 5, deliverables: [], entities: all),
        ]
        for offering in offerings { try await store.addOffering(offering) }
        for (index, name) in Self.customerNames.enumerated() {
            let code = name.lowercased().split(separator: " ").first.map(String.init) ?? "c\(index)"
            try await store.addCustomer(Customer(id: Customer.ID(code), name: name, entity: Entity.ID(Self.entities[index % 4].0)))
            summary.customers += 1
        }
        customers = try await store.customers()
    }
}
