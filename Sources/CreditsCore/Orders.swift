/// What someone asks for when buying credits.
public struct OrderRequest: Hashable, Sendable {
    public var customer: Customer.ID
    public var program: Program.ID
    /// The selling entity the order is placed through; must be the customer's (R2).
    public var entity: Entity.ID
    public var purchaseOrder: String?
    public var blocks: [BlockLine]
    /// A price per credit the buyer asks for; anything but the list price is refused (R5).
    public var requestedPriceMinor: Int?
    /// A discount in percent; any but zero is refused (R5).
    public var discountPercent: Int?

    public init(
        customer: Customer.ID, program: Program.ID, entity: Entity.ID, purchaseOrder: String?,
        blocks: [BlockLine], requestedPriceMinor: Int? = nil, discountPercent: Int? = nil
    ) {
        self.customer = customer
        self.program = program
        self.entity = entity
        self.purchaseOrder = purchaseOrder
        self.blocks = blocks
        self.requestedPriceMinor = requestedPriceMinor
        self.discountPercent = discountPercent
    }
}

/// An accepted order: the records to insert and the ledger entry to append.
public struct OrderDecision: Hashable, Sendable {
    public let order: Order
    public let lot: Lot
    public let entries: [LedgerEntry]
}

/// The state an order is decided on; the store loads it inside the order's transaction.
public struct OrderContext: Sendable {
    public let customer: Customer
    public let entity: Entity
    public let program: Program
    /// Purchase order numbers this customer has already used for credit orders (R1).
    public let purchaseOrdersUsed: Set<String>
    public let orderID: Order.ID
    public let lotID: Lot.ID

    public init(
        customer: Customer, entity: Entity, program: Program, purchaseOrdersUsed: Set<String>,
        orderID: Order.ID, lotID: Lot.ID
    ) {
        self.customer = customer
        self.entity = entity
        self.program = program
        self.purchaseOrdersUsed = purchaseOrdersUsed
        self.orderID = orderID
        self.lotID = lotID
    }
}

public enum Orders {
    /// R1–R7: decides an order placed on `today`.
    public static func place(
        _ request: OrderRequest, in context: OrderContext, today: CalendarDate, actor: Actor
    ) -> Result<OrderDecision, Rejection> {
        let program = context.program
        let purchaseOrder: String
        switch Text.required(request.purchaseOrder, field: "purchase order number", missing: .missingPurchaseOrder) {
        case .success(let value): purchaseOrder = value
        case .failure(let rejection): return .failure(rejection)
        }
        if context.purchaseOrdersUsed.contains(purchaseOrder) {
            return .failure(Rejection(.duplicatePurchaseOrder,
                "purchase order \(purchaseOrder) was already used for a credit order of \(context.customer.id)"))
        }
        if context.entity.id != context.customer.entity {
            return .failure(Rejection(.wrongEntity,
                "\(context.customer.id) is served by entity \(context.customer.entity), not \(context.entity.id)"))
        }
        let credits: Int
        switch countCredits(request.blocks, program: program) {
        case .success(let value): credits = value
        case .failure(let rejection): return .failure(rejection)
        }
        guard let listPrice = context.entity.listPrice(of: program.id, on: today) else {
            return .failure(Rejection(.noListPrice,
                "entity \(context.entity.id) has no \(program.id) list price in force on \(today)"))
        }
        if let rejection = checkNoDiscount(request, listPrice: listPrice, currency: context.entity.currency) {
            return .failure(rejection)
        }
        let (amount, overflow) = credits.multipliedReportingOverflow(by: listPrice)
        precondition(!overflow, "bounded credits × bounded price can't overflow")
        let lot = Lot(
            id: context.lotID, customer: context.customer.id, program: program.id, source: .order,
            purchasedOn: today, expiresOn: today.adding(months: program.termMonths),
            creditsGranted: credits, creditsAvailable: 0, creditsHeld: 0)
        let entry = LedgerEntry(
            kind: .purchase, lot: lot.id, customer: lot.customer, program: program.id,
            creditsAvailableDelta: credits, creditsHeldDelta: 0, effectiveOn: today, actor: actor.name,
            reason: "purchase order \(purchaseOrder)", document: "order/\(context.orderID)")
        let invoice = Invoice(
            number: "INV-\(context.orderID)", issuedOn: today, currency: context.entity.currency,
            amountMinor: amount)
        let order = Order(
            id: context.orderID, customer: context.customer.id, program: program.id,
            entity: context.entity.id, purchaseOrder: purchaseOrder, blocks: request.blocks,
            orderedOn: today, credits: credits, priceMinor: listPrice, lot: lot.id, invoice: invoice)
        return .success(OrderDecision(order: order, lot: lot.applying(entry), entries: [entry]))
    }

    /// R3, R4 and the order bound: the lines use the program's block sizes and add up to at
    /// least its minimum.
    static func countCredits(_ blocks: [BlockLine], program: Program) -> Result<Int, Rejection> {
        guard !blocks.isEmpty else {
            return .failure(Rejection(.minimumOrder, "an order needs at least one block line"))
        }
        guard blocks.count <= Limits.blockLinesPerOrderMax else {
            return .failure(Rejection(.orderTooLarge, "an order has at most \(Limits.blockLinesPerOrderMax) block lines"))
        }
        let sizes = program.blockSizes.map(String.init).joined(separator: ", ")
        var credits = 0
        for line in blocks {
            guard program.blockSizes.contains(line.size) else {
                return .failure(Rejection(.invalidBlockSize,
                    "\(program.id) is sold in blocks of \(sizes); \(line.size) is not one of them"))
            }
            guard line.count > 0, line.count <= Limits.creditsPerOrderMax else {
                return .failure(Rejection(.invalidInput, "block count must be from 1 to \(Limits.creditsPerOrderMax)"))
            }
            credits += line.size * line.count
            guard credits <= Limits.creditsPerOrderMax else {
                return .failure(Rejection(.orderTooLarge, "an order has at most \(Limits.creditsPerOrderMax) credits"))
            }
        }
        guard credits >= program.orderCreditsMin else {
            return .failure(Rejection(.minimumOrder,
                "an order of \(program.id) is at least \(program.orderCreditsMin) credits; this one has \(credits)"))
        }
        return .success(credits)
    }

    /// R5: credits sell at list price only.
    static func checkNoDiscount(_ request: OrderRequest, listPrice: Int, currency: String) -> Rejection? {
        if let discount = request.discountPercent, discount != 0 {
            return Rejection(.discountNotAllowed, "credits are not discountable; asked for \(discount)% off")
        }
        if let asked = request.requestedPriceMinor, asked != listPrice {
            return Rejection(.discountNotAllowed,
                "the price per credit is the list price, \(listPrice) minor units of \(currency); asked for \(asked)")
        }
        return nil
    }
}
