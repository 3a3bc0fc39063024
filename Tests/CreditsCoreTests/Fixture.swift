import CreditsCore

/// Literal values the rule tests share: one entity, one customer, a few lots.
enum Fixture {
    static func date(_ text: String) -> CalendarDate {
        guard let date = CalendarDate(text) else { fatalError("bad test date \(text)") }
        return date
    }

    static let today = date("2026-03-15")
    static let operations = Actor(name: "ops", role: .operations)
    static let entity = Entity(
        id: "JN-DE", name: "Vendor GmbH", currency: "EUR",
        prices: [
            ListPrice(program: "PSC", priceMinor: 140_000, effectiveOn: date("2020-01-01")),
            ListPrice(program: "FSC", priceMinor: 130_000, effectiveOn: date("2020-01-01")),
            ListPrice(program: "PSC", priceMinor: 150_000, effectiveOn: date("2026-06-01")),
        ])
    static let otherEntity = Entity(
        id: "JN-US", name: "Vendor Inc", currency: "USD",
        prices: [ListPrice(program: "PSC", priceMinor: 150_000, effectiveOn: date("2025-01-01"))])
    static let customer = Customer(id: "acme", name: "Acme", entity: "JN-DE")

    static func program(_ id: String) -> Program { id == "FSC" ? .flexible : .professional }

    static func lot(
        _ id: Int, available: Int, held: Int = 0, purchased: String = "2026-01-10", expires: String? = nil,
        program: String = "PSC", granted: Int? = nil, customer: Customer.ID = "acme"
    ) -> Lot {
        let purchasedOn = date(purchased)
        return Lot(
            id: Lot.ID(id), customer: customer, program: Program.ID(program), source: .order,
            purchasedOn: purchasedOn, expiresOn: expires.map(date) ?? purchasedOn.adding(months: 12),
            creditsGranted: granted ?? (available + held), creditsAvailable: available, creditsHeld: held)
    }

    static func order(
        _ blocks: [BlockLine], po: String? = "PO-1", entity: Entity = entity, program: String = "PSC",
        used: Set<String> = [], today: CalendarDate = today, price: Int? = nil, discount: Int? = nil
    ) -> Result<OrderDecision, Rejection> {
        let request = OrderRequest(
            customer: "acme", program: Program.ID(program), entity: entity.id, purchaseOrder: po, blocks: blocks,
            requestedPriceMinor: price, discountPercent: discount)
        let context = OrderContext(
            customer: customer, entity: entity, program: Fixture.program(program), purchaseOrdersUsed: used,
            orderID: 7, lotID: 70)
        return Orders.place(request, in: context, today: today, actor: operations)
    }

    static func custom(
        credits: Int, kind: EngagementKind = .assessment, pricing: Pricing = .fixedScope,
        deliverables: [String] = ["Report"]
    ) -> CustomEngagement {
        CustomEngagement(title: "Fabric assessment", kind: kind, pricing: pricing, deliverables: deliverables, credits: credits)
    }

    static func callOff(
        _ scope: CustomEngagement? = nil, offering: Offering? = nil, lots: [Lot], program: String = "PSC",
        today: CalendarDate = today, plannedEnd: String = "2026-06-30", po: String? = "PO-CO-1",
        sow: String? = "SOW-1", sowSigned: String? = "2026-03-01"
    ) -> Result<CallOffDecision, Rejection> {
        let request = CallOffRequest(
            customer: "acme", program: Program.ID(program), purchaseOrder: po, sowReference: sow,
            sowSignedOn: sowSigned.map(date), offering: offering?.id, custom: scope, plannedEndOn: date(plannedEnd))
        let context = CallOffContext(
            customer: customer, program: Fixture.program(program), offering: offering, lots: lots, engagementID: 9)
        return CallOffs.callOff(request, in: context, today: today, actor: operations)
    }
}

extension Result {
    var rejectionCode: RejectionCode? {
        guard case .failure(let error) = self, let rejection = error as? Rejection else { return nil }
        return rejection.code
    }

    var value: Success? {
        guard case .success(let value) = self else { return nil }
        return value
    }
}
