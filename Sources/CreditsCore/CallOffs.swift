/// An engagement described in the call-off itself rather than taken from the catalog.
public struct CustomEngagement: Hashable, Sendable {
    public var title: String
    public var kind: EngagementKind
    public var pricing: Pricing
    public var deliverables: [String]
    public var credits: Int

    public init(title: String, kind: EngagementKind, pricing: Pricing, deliverables: [String], credits: Int) {
        self.title = title
        self.kind = kind
        self.pricing = pricing
        self.deliverables = deliverables
        self.credits = credits
    }
}

public struct CallOffRequest: Hashable, Sendable {
    public var customer: Customer.ID
    public var program: Program.ID
    public var purchaseOrder: String?
    public var sowReference: String?
    public var sowSignedOn: CalendarDate?
    /// Either a catalog offering (its fixed credit price applies) or a custom engagement.
    public var offering: Offering.ID?
    public var custom: CustomEngagement?
    public var plannedEndOn: CalendarDate

    public init(
        customer: Customer.ID, program: Program.ID, purchaseOrder: String?, sowReference: String?,
        sowSignedOn: CalendarDate?, offering: Offering.ID? = nil, custom: CustomEngagement? = nil,
        plannedEndOn: CalendarDate
    ) {
        self.customer = customer
        self.program = program
        self.purchaseOrder = purchaseOrder
        self.sowReference = sowReference
        self.sowSignedOn = sowSignedOn
        self.offering = offering
        self.custom = custom
        self.plannedEndOn = plannedEndOn
    }
}

public struct CallOffContext: Sendable {
    public let customer: Customer
    public let program: Program
    /// The catalog offering named by the request, when it names one.
    public let offering: Offering?
    /// The customer's lots of the request's program.
    public let lots: [Lot]
    public let engagementID: Engagement.ID

    public init(customer: Customer, program: Program, offering: Offering?, lots: [Lot], engagementID: Engagement.ID) {
        self.customer = customer
        self.program = program
        self.offering = offering
        self.lots = lots
        self.engagementID = engagementID
    }
}

public struct CallOffDecision: Hashable, Sendable {
    public let engagement: Engagement
    /// The lots the call-off drew from, with their new balances.
    public let lots: [Lot]
    public let entries: [LedgerEntry]
}

public enum CallOffs {
    /// R2, R8–R13: decides a call-off made on `today`.
    public static func callOff(
        _ request: CallOffRequest, in context: CallOffContext, today: CalendarDate, actor: Actor
    ) -> Result<CallOffDecision, Rejection> {
        let paperwork: (purchaseOrder: String, sowReference: String, sowSignedOn: CalendarDate)
        switch checkPaperwork(request, today: today) {
        case .success(let value): paperwork = value
        case .failure(let rejection): return .failure(rejection)
        }
        let scope: CustomEngagement
        switch scopeOf(request, offering: context.offering) {
        case .success(let value): scope = value
        case .failure(let rejection): return .failure(rejection)
        }
        if let rejection = checkScope(scope, request: request, context: context, today: today) {
            return .failure(rejection)
        }
        let draws: [Draw]
        switch allocate(scope.credits, from: context.lots, program: context.program,
                        today: today, plannedEndOn: request.plannedEndOn) {
        case .success(let value): draws = value
        case .failure(let rejection): return .failure(rejection)
        }
        let engagement = Engagement(
            id: context.engagementID, customer: context.customer.id, program: context.program.id,
            purchaseOrder: paperwork.purchaseOrder, sowReference: paperwork.sowReference,
            sowSignedOn: paperwork.sowSignedOn, offering: context.offering?.id, title: scope.title,
            kind: scope.kind, deliverables: scope.deliverables, credits: scope.credits,
            calledOffOn: today, plannedEndOn: request.plannedEndOn, draws: draws,
            status: .scheduled, statusChangedOn: today)
        let entries = draws.map { draw in
            LedgerEntry(
                kind: .callOff, lot: draw.lot, customer: engagement.customer, program: engagement.program,
                creditsAvailableDelta: -draw.credits, creditsHeldDelta: draw.credits, effectiveOn: today,
                actor: actor.name, reason: "call-off under purchase order \(paperwork.purchaseOrder), SOW \(paperwork.sowReference)",
                document: "engagement/\(engagement.id)")
        }
        let lotsByID = Dictionary(uniqueKeysWithValues: context.lots.map { ($0.id, $0) })
        let changed = entries.map { lotsByID[$0.lot]!.applying($0) }
        return .success(CallOffDecision(engagement: engagement, lots: changed, entries: entries))
    }

    /// R9: the customer's purchase order and a signed statement of work, signed by today.
    static func checkPaperwork(_ request: CallOffRequest, today: CalendarDate)
        -> Result<(purchaseOrder: String, sowReference: String, sowSignedOn: CalendarDate), Rejection>
    {
        let purchaseOrder: String
        switch Text.required(request.purchaseOrder, field: "purchase order number", missing: .missingPurchaseOrder) {
        case .success(let value): purchaseOrder = value
        case .failure(let rejection): return .failure(rejection)
        }
        let sowReference: String
        switch Text.required(request.sowReference, field: "statement of work reference", missing: .missingStatementOfWork) {
        case .success(let value): sowReference = value
        case .failure(let rejection): return .failure(rejection)
        }
        guard let signedOn = request.sowSignedOn else {
            return .failure(Rejection(.missingStatementOfWork, "the statement of work's signing date is required"))
        }
        guard signedOn <= today else {
            return .failure(Rejection(.statementOfWorkNotSigned,
                "statement of work \(sowReference) is dated \(signedOn), after today (\(today))"))
        }
        return .success((purchaseOrder, sowReference, signedOn))
    }

    /// The engagement being bought, from the catalog or the request; exactly one of the two.
    static func scopeOf(_ request: CallOffRequest, offering: Offering?) -> Result<CustomEngagement, Rejection> {
        switch (offering, request.custom) {
        case (let offering?, nil):
            return .success(CustomEngagement(
                title: offering.name, kind: offering.kind, pricing: offering.pricing,
                deliverables: offering.deliverables, credits: offering.credits))
        case (nil, let custom?):
            switch Text.required(custom.title, field: "engagement title", missing: .invalidInput) {
            case .success(let title):
                var scope = custom
                scope.title = title
                return .success(scope)
            case .failure(let rejection): return .failure(rejection)
            }
        case (nil, nil):
            return .failure(Rejection(.invalidInput, "a call-off names a catalog offering or describes a custom engagement"))
        case (_?, _?):
            return .failure(Rejection(.invalidInput, "a call-off names a catalog offering or a custom engagement, not both"))
        }
    }

    /// R8, R2 (delivery), R10, and the planned end.
    static func checkScope(
        _ scope: CustomEngagement, request: CallOffRequest, context: CallOffContext, today: CalendarDate
    ) -> Rejection? {
        let program = context.program
        if scope.pricing == .durationBased {
            return Rejection(.durationBasedEngagement,
                "'\(scope.title)' is priced by duration, not fixed scope; credits pay only for fixed-price, fixed-scope engagements")
        }
        let deliverables = scope.deliverables.map(\.trimmingSpaces).filter { !$0.isEmpty }
        if deliverables.isEmpty {
            return Rejection(.missingDeliverables, "a fixed-scope engagement names at least one deliverable")
        }
        if deliverables.count > Limits.deliverablesMax || deliverables.contains(where: { $0.count > Limits.textLengthMax }) {
            return Rejection(.invalidInput, "at most \(Limits.deliverablesMax) deliverables of \(Limits.textLengthMax) characters")
        }
        if !program.engagementKinds.contains(scope.kind) {
            return Rejection(.kindNotCovered, "\(program.id) does not pay for \(scope.kind.rawValue) engagements")
        }
        if let offering = context.offering, !offering.entities.contains(context.customer.entity) {
            return Rejection(.notDeliverableInEntity,
                "offering \(offering.id) can't be delivered by entity \(context.customer.entity)")
        }
        if scope.credits <= 0 || scope.credits > Limits.creditsPerCallOffMax {
            return Rejection(.invalidCredits, "a call-off is from 1 to \(Limits.creditsPerCallOffMax) credits, got \(scope.credits)")
        }
        if scope.credits < program.callOffCreditsMin {
            return Rejection(.minimumCallOff,
                "a call-off of \(program.id) is at least \(program.callOffCreditsMin) credits; this one is \(scope.credits)")
        }
        if request.plannedEndOn < today {
            return Rejection(.plannedEndInPast, "the planned end \(request.plannedEndOn) is before today (\(today))")
        }
        return nil
    }

    /// R12: takes `credits` from the lots that are usable today and last until the planned end,
    /// the one expiring first first. All or nothing.
    public static func allocate(
        _ credits: Int, from lots: [Lot], program: Program, today: CalendarDate, plannedEndOn: CalendarDate
    ) -> Result<[Draw], Rejection> {
        precondition(lots.count <= Limits.lotsPerCustomerMax, "too many lots loaded for one call-off")
        let eligible = lots.filter {
            $0.program == program.id && $0.isUsable(on: today) && plannedEndOn <= $0.expiresOn
                && $0.creditsAvailable > 0
        }
        .sorted { ($0.expiresOn, $0.purchasedOn, $0.id) < ($1.expiresOn, $1.purchasedOn, $1.id) }
        let available = eligible.reduce(0) { $0 + $1.creditsAvailable }
        guard available >= credits else {
            return .failure(Rejection(.insufficientCredits,
                "\(available) \(program.id) credits available for an engagement ending by \(plannedEndOn), \(credits) requested"))
        }
        var draws: [Draw] = []
        var remaining = credits
        for lot in eligible where remaining > 0 {
            let take = min(remaining, lot.creditsAvailable)
            draws.append(Draw(lot: lot.id, credits: take))
            remaining -= take
        }
        precondition(remaining == 0)
        return .success(draws)
    }
}
