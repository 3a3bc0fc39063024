/// The credits a call-off took from one lot (R12).
public struct Draw: Hashable, Sendable, Codable {
    public let lot: Lot.ID
    public let credits: Int

    public init(lot: Lot.ID, credits: Int) {
        self.lot = lot
        self.credits = credits
    }
}

/// A fixed-scope engagement paid for by one call-off, and its life (R13).
public struct Engagement: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Engagement, Int>

    public enum Status: String, Sendable, Codable, CaseIterable {
        case scheduled
        case inDelivery = "in-delivery"
        case delivered
        case cancelled

        public var isOpen: Bool { self == .scheduled || self == .inDelivery }
    }

    public let id: ID
    public let customer: Customer.ID
    public let program: Program.ID
    public let purchaseOrder: String
    public let sowReference: String
    public let sowSignedOn: CalendarDate
    public let offering: Offering.ID?
    public let title: String
    public let kind: EngagementKind
    public let deliverables: [String]
    public let credits: Int
    public let calledOffOn: CalendarDate
    public let plannedEndOn: CalendarDate
    public let draws: [Draw]
    public internal(set) var status: Status
    public internal(set) var statusChangedOn: CalendarDate

    public init(
        id: ID, customer: Customer.ID, program: Program.ID, purchaseOrder: String,
        sowReference: String, sowSignedOn: CalendarDate, offering: Offering.ID?, title: String,
        kind: EngagementKind, deliverables: [String], credits: Int, calledOffOn: CalendarDate,
        plannedEndOn: CalendarDate, draws: [Draw], status: Status, statusChangedOn: CalendarDate
    ) {
        precondition(draws.reduce(0) { $0 + $1.credits } == credits, "draws must add up to the call-off")
        self.id = id
        self.customer = customer
        self.program = program
        self.purchaseOrder = purchaseOrder
        self.sowReference = sowReference
        self.sowSignedOn = sowSignedOn
        self.offering = offering
        self.title = title
        self.kind = kind
        self.deliverables = deliverables
        self.credits = credits
        self.calledOffOn = calledOffOn
        self.plannedEndOn = plannedEndOn
        self.draws = draws
        self.status = status
        self.statusChangedOn = statusChangedOn
    }

    /// R13: open past the expiry of a lot it draws from. Its credits stay held; it is flagged.
    public func isOverdue(on date: CalendarDate, lotExpiries: [Lot.ID: CalendarDate]) -> Bool {
        guard status.isOpen else { return false }
        return draws.contains { draw in lotExpiries[draw.lot].map { date > $0 } ?? false }
    }
}
