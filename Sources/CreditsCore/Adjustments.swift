public struct AdjustmentRequest: Hashable, Sendable {
    public var customer: Customer.ID
    /// The lot corrected. Required to take credits away; for a grant it sets the default expiry.
    public var lot: Lot.ID?
    /// The program of a grant that names no lot.
    public var program: Program.ID?
    /// Signed whole credits: negative takes, positive grants.
    public var credits: Int
    public var reason: String?
    /// When a grant expires; defaults to the corrected lot's expiry.
    public var expiresOn: CalendarDate?

    public init(
        customer: Customer.ID, lot: Lot.ID?, program: Program.ID? = nil, credits: Int, reason: String?,
        expiresOn: CalendarDate? = nil
    ) {
        self.customer = customer
        self.lot = lot
        self.program = program
        self.credits = credits
        self.reason = reason
        self.expiresOn = expiresOn
    }
}

public struct AdjustmentDecision: Hashable, Sendable {
    /// The lot taken from, or the new lot a grant creates, with its new balances.
    public let lot: Lot
    public let isNewLot: Bool
    public let entries: [LedgerEntry]
}

/// R17: corrections are new signed entries by vendor operations, never edits.
public enum Adjustments {
    public static func adjust(
        _ request: AdjustmentRequest, customer: Customer, lot: Lot?, program: Program?,
        newLotID: Lot.ID, today: CalendarDate, actor: Actor
    ) -> Result<AdjustmentDecision, Rejection> {
        guard actor.isVendorOperations else {
            return .failure(Rejection(.notPermitted, "only vendor operations may adjust credits; \(actor.name) is \(actor.role.rawValue)"))
        }
        let reason: String
        switch Text.required(request.reason, field: "reason", max: Limits.reasonLengthMax, missing: .missingReason) {
        case .success(let value): reason = value
        case .failure(let rejection): return .failure(rejection)
        }
        // NB: magnitude, not abs(): abs(Int.min) traps, and the API can send any 64-bit integer.
        guard request.credits != 0, request.credits.magnitude <= UInt(Limits.adjustmentCreditsMax) else {
            return .failure(Rejection(.invalidCredits, "an adjustment is from 1 to \(Limits.adjustmentCreditsMax) credits either way"))
        }
        if let lot, lot.customer != customer.id {
            return .failure(Rejection(.unknownLot, "lot \(lot.id) is not a lot of \(customer.id)"))
        }
        if request.credits < 0 {
            return take(-request.credits, from: lot, reason: reason, today: today, actor: actor)
        }
        return grant(request, customer: customer, lot: lot, program: program, reason: reason,
                     newLotID: newLotID, today: today, actor: actor)
    }

    static func take(_ credits: Int, from lot: Lot?, reason: String, today: CalendarDate, actor: Actor)
        -> Result<AdjustmentDecision, Rejection>
    {
        guard let lot else {
            return .failure(Rejection(.unknownLot, "a negative adjustment names the lot it takes credits from"))
        }
        guard credits <= lot.creditsAvailable else {
            return .failure(Rejection(.adjustmentExceedsBalance,
                "lot \(lot.id) has \(lot.creditsAvailable) credits available; can't take \(credits)"))
        }
        let entry = LedgerEntry(
            kind: .adjustment, lot: lot.id, customer: lot.customer, program: lot.program,
            creditsAvailableDelta: -credits, creditsHeldDelta: 0, effectiveOn: today, actor: actor.name,
            reason: reason, document: "adjustment")
        return .success(AdjustmentDecision(lot: lot.applying(entry), isNewLot: false, entries: [entry]))
    }

    static func grant(
        _ request: AdjustmentRequest, customer: Customer, lot: Lot?, program: Program?, reason: String,
        newLotID: Lot.ID, today: CalendarDate, actor: Actor
    ) -> Result<AdjustmentDecision, Rejection> {
        guard let programID = lot?.program ?? program?.id else {
            return .failure(Rejection(.unknownProgram, "a grant names the lot it corrects or a program"))
        }
        guard let expiresOn = request.expiresOn ?? lot?.expiresOn else {
            return .failure(Rejection(.invalidExpiry, "a grant that corrects no lot states its expiry date"))
        }
        guard expiresOn > today else {
            return .failure(Rejection(.invalidExpiry, "a grant must expire after today (\(today)); asked for \(expiresOn)"))
        }
        let newLot = Lot(
            id: newLotID, customer: customer.id, program: programID, source: .adjustment,
            purchasedOn: today, expiresOn: expiresOn, creditsGranted: request.credits,
            creditsAvailable: 0, creditsHeld: 0)
        let corrects = lot.map { " (corrects lot \($0.id))" } ?? ""
        let entry = LedgerEntry(
            kind: .adjustment, lot: newLot.id, customer: customer.id, program: programID,
            creditsAvailableDelta: request.credits, creditsHeldDelta: 0, effectiveOn: today,
            actor: actor.name, reason: reason + corrects, document: "adjustment")
        return .success(AdjustmentDecision(lot: newLot.applying(entry), isNewLot: true, entries: [entry]))
    }
}
