/// What an engagement does. Programs list the kinds they pay for (RULES.md table).
public enum EngagementKind: String, Sendable, Codable, CaseIterable, Comparable {
    case assessment, design, deployment, migration
    /// Other fixed-scope services the vendor qualifies for Flexible Services Credits only.
    case other

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A credit program. PSC and FSC are two rows of data for one engine, never two code paths.
public struct Program: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Program, String>

    public let id: ID
    public let name: String
    /// Block sizes an order line may use (R3).
    public let blockSizes: [Int]
    /// Fewest credits in one order (R4).
    public let orderCreditsMin: Int
    /// Months a lot stays usable after purchase (R7).
    public let termMonths: Int
    /// Fewest credits in one call-off (R10).
    public let callOffCreditsMin: Int
    /// Engagement kinds the program pays for (R8).
    public let engagementKinds: [EngagementKind]

    public init(
        id: ID, name: String, blockSizes: [Int], orderCreditsMin: Int, termMonths: Int,
        callOffCreditsMin: Int, engagementKinds: [EngagementKind]
    ) {
        precondition(!blockSizes.isEmpty && blockSizes.allSatisfy { $0 > 0 })
        precondition(orderCreditsMin > 0 && termMonths > 0 && callOffCreditsMin > 0)
        self.id = id
        self.name = name
        self.blockSizes = blockSizes
        self.orderCreditsMin = orderCreditsMin
        self.termMonths = termMonths
        self.callOffCreditsMin = callOffCreditsMin
        self.engagementKinds = engagementKinds
    }

    public static let professional = Program(
        id: "PSC", name: "Professional Services Credits", blockSizes: [1, 10, 25, 50],
        orderCreditsMin: 10, termMonths: 12, callOffCreditsMin: 5,
        engagementKinds: [.assessment, .design, .deployment, .migration])

    public static let flexible = Program(
        id: "FSC", name: "Flexible Services Credits", blockSizes: [1, 10, 25, 50],
        orderCreditsMin: 10, termMonths: 12, callOffCreditsMin: 10,
        engagementKinds: [.assessment, .design, .deployment, .migration, .other])

    /// The programs a new desk starts with.
    public static let standard = [professional, flexible]
}

/// A list price for one program, in force from a date until the next price of that program.
public struct ListPrice: Hashable, Sendable, Codable {
    public let program: Program.ID
    public let priceMinor: Int
    public let effectiveOn: CalendarDate

    public init(program: Program.ID, priceMinor: Int, effectiveOn: CalendarDate) {
        self.program = program
        self.priceMinor = priceMinor
        self.effectiveOn = effectiveOn
    }
}

/// The vendor's local selling entity: it fixes currency and list prices (R2, R5).
public struct Entity: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Entity, String>

    public let id: ID
    public let name: String
    /// ISO 4217 code, three capital letters.
    public let currency: String
    /// Minor units per major unit (2 for EUR, 0 for JPY); only for display.
    public let currencyExponent: Int
    public var prices: [ListPrice]

    public init(id: ID, name: String, currency: String, currencyExponent: Int = 2, prices: [ListPrice]) {
        self.id = id
        self.name = name
        self.currency = currency
        self.currencyExponent = currencyExponent
        self.prices = prices
    }

    /// The price in force on `date`: the latest one effective on or before it.
    public func listPrice(of program: Program.ID, on date: CalendarDate) -> Int? {
        prices.filter { $0.program == program && $0.effectiveOn <= date }
            .max { $0.effectiveOn < $1.effectiveOn }?.priceMinor
    }
}

public struct Customer: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Customer, String>

    public let id: ID
    public let name: String
    /// The one local entity that serves this customer (R2).
    public let entity: Entity.ID

    public init(id: ID, name: String, entity: Entity.ID) {
        self.id = id
        self.name = name
        self.entity = entity
    }
}

/// How an engagement is priced. Only fixed scope can be paid with credits (R8).
public enum Pricing: String, Sendable, Codable, CaseIterable {
    case fixedScope = "fixed-scope"
    /// Time and materials, or priced per hour or day without a fixed scope.
    case durationBased = "duration-based"
}

/// A service of the vendor's catalog with a fixed credit price.
public struct Offering: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Offering, String>

    public let id: ID
    public let name: String
    public let kind: EngagementKind
    public let pricing: Pricing
    public let credits: Int
    public let deliverables: [String]
    /// Entities in whose regions the vendor can deliver it (R2, local delivery requirements).
    public let entities: [Entity.ID]

    public init(
        id: ID, name: String, kind: EngagementKind, pricing: Pricing, credits: Int,
        deliverables: [String], entities: [Entity.ID]
    ) {
        self.id = id
        self.name = name
        self.kind = kind
        self.pricing = pricing
        self.credits = credits
        self.deliverables = deliverables
        self.entities = entities
    }
}
