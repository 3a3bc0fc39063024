/// Credits of one program that a customer got at once, by an order or a positive adjustment,
/// usable until one expiry date (R7). Its balances are a projection of its ledger entries (R16).
public struct Lot: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Lot, Int>

    public enum Source: String, Sendable, Codable {
        case order
        case adjustment
    }

    public let id: ID
    public let customer: Customer.ID
    public let program: Program.ID
    public let source: Source
    public let purchasedOn: CalendarDate
    public let expiresOn: CalendarDate
    /// What was put in: bought, or granted by the adjustment that created the lot.
    public let creditsGranted: Int
    /// Free to call off (while the lot is in term).
    public private(set) var creditsAvailable: Int
    /// Committed to engagements not yet delivered or cancelled (R13).
    public private(set) var creditsHeld: Int

    public init(
        id: ID, customer: Customer.ID, program: Program.ID, source: Source,
        purchasedOn: CalendarDate, expiresOn: CalendarDate, creditsGranted: Int,
        creditsAvailable: Int, creditsHeld: Int
    ) {
        self.id = id
        self.customer = customer
        self.program = program
        self.source = source
        self.purchasedOn = purchasedOn
        self.expiresOn = expiresOn
        self.creditsGranted = creditsGranted
        self.creditsAvailable = creditsAvailable
        self.creditsHeld = creditsHeld
        checkInvariants()
    }

    /// R16: never below zero, never above what was put in.
    public var invariantViolation: String? {
        Self.invariantViolation(granted: creditsGranted, available: creditsAvailable, held: creditsHeld)
    }

    /// R16 for figures not yet made a lot: a store reading a row checks them first, so a row
    /// that breaks R16 (a dropped CHECK, an edited file) is reported as corrupt instead of
    /// stopping the server in `init`'s precondition.
    public static func invariantViolation(granted: Int, available: Int, held: Int) -> String? {
        if available < 0 { return "available \(available) is below zero" }
        if held < 0 { return "held \(held) is below zero" }
        if available + held > granted {
            return "available \(available) + held \(held) exceed granted \(granted)"
        }
        return nil
    }

    private func checkInvariants() {
        if let violation = invariantViolation { preconditionFailure("lot \(id): \(violation)") }
    }

    /// The lot after one of its entries. Decisions never produce an entry that breaks R16, so
    /// a violation here is a bug in the core and stops the process.
    public func applying(_ entry: LedgerEntry) -> Lot {
        precondition(entry.lot == id, "entry for lot \(entry.lot) applied to lot \(id)")
        var next = self
        next.creditsAvailable += entry.creditsAvailableDelta
        next.creditsHeld += entry.creditsHeldDelta
        next.checkInvariants()
        return next
    }

    /// A call-off on `date` may use the lot only before its expiry date (R7).
    public func isUsable(on date: CalendarDate) -> Bool {
        purchasedOn <= date && date < expiresOn
    }
}

/// One line of an order: `count` blocks of `size` credits (R3).
public struct BlockLine: Hashable, Sendable, Codable {
    public let size: Int
    public let count: Int

    public init(size: Int, count: Int) {
        self.size = size
        self.count = count
    }

    /// Parses `10x2` (two blocks of ten) or `25` (one block of 25).
    public static func parse(_ text: String) -> Result<BlockLine, Rejection> {
        let parts = text.split(separator: "x", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(parts.count) else {
            return .failure(Rejection(.invalidInput, "block line '\(text)' is not SIZExCOUNT, e.g. 10x2"))
        }
        let size: Int
        switch Credits.parse(parts[0], field: "block size") {
        case .success(let value): size = value
        case .failure(let rejection): return .failure(rejection)
        }
        guard parts.count == 2 else { return .success(BlockLine(size: size, count: 1)) }
        guard let count = Int(parts[1]), count > 0, count <= Limits.creditsPerOrderMax else {
            return .failure(Rejection(.invalidInput, "block count '\(parts[1])' must be a whole number from 1 to \(Limits.creditsPerOrderMax)"))
        }
        return .success(BlockLine(size: size, count: count))
    }
}

public struct Order: Hashable, Sendable, Codable {
    public typealias ID = Identifier<Order, Int>

    public let id: ID
    public let customer: Customer.ID
    public let program: Program.ID
    public let entity: Entity.ID
    public let purchaseOrder: String
    public let blocks: [BlockLine]
    public let orderedOn: CalendarDate
    public let credits: Int
    public let priceMinor: Int
    public let lot: Lot.ID
    public let invoice: Invoice

    public init(
        id: ID, customer: Customer.ID, program: Program.ID, entity: Entity.ID, purchaseOrder: String,
        blocks: [BlockLine], orderedOn: CalendarDate, credits: Int, priceMinor: Int, lot: Lot.ID,
        invoice: Invoice
    ) {
        self.id = id
        self.customer = customer
        self.program = program
        self.entity = entity
        self.purchaseOrder = purchaseOrder
        self.blocks = blocks
        self.orderedOn = orderedOn
        self.credits = credits
        self.priceMinor = priceMinor
        self.lot = lot
        self.invoice = invoice
    }
}

/// R6: one invoice per order, for all of it, on the order date.
public struct Invoice: Hashable, Sendable, Codable {
    public let number: String
    public let issuedOn: CalendarDate
    public let currency: String
    public let amountMinor: Int

    public init(number: String, issuedOn: CalendarDate, currency: String, amountMinor: Int) {
        self.number = number
        self.issuedOn = issuedOn
        self.currency = currency
        self.amountMinor = amountMinor
    }
}
