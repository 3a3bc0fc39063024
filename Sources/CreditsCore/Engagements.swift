/// A change of an engagement's status with the ledger entries it causes.
public struct EngagementTransition: Hashable, Sendable {
    public let engagement: Engagement
    public let lots: [Lot]
    public let entries: [LedgerEntry]
}

/// R13: `scheduled → in-delivery → delivered`, or `cancelled` before delivery.
public enum Engagements {
    public static func start(_ engagement: Engagement, today: CalendarDate) -> Result<EngagementTransition, Rejection> {
        guard engagement.status == .scheduled else {
            return .failure(invalidTransition(engagement, to: .inDelivery))
        }
        var next = engagement
        next.status = .inDelivery
        next.statusChangedOn = today
        return .success(EngagementTransition(engagement: next, lots: [], entries: []))
    }

    /// Delivery spends the held credits: one delivery entry per lot drawn from.
    public static func deliver(
        _ engagement: Engagement, lots: [Lot.ID: Lot], today: CalendarDate, actor: Actor
    ) -> Result<EngagementTransition, Rejection> {
        guard engagement.status == .inDelivery else {
            return .failure(invalidTransition(engagement, to: .delivered))
        }
        let entries = engagement.draws.map { draw in
            LedgerEntry(
                kind: .delivery, lot: draw.lot, customer: engagement.customer, program: engagement.program,
                creditsAvailableDelta: 0, creditsHeldDelta: -draw.credits, effectiveOn: today,
                actor: actor.name, reason: "engagement delivered", document: "engagement/\(engagement.id)")
        }
        return .success(finish(engagement, as: .delivered, lots: lots, entries: entries, today: today))
    }

    /// Cancelling gives the held credits back to the lots they came from, keeping each lot's
    /// expiry; credits returned to a lot already past its expiry date expire at once.
    public static func cancel(
        _ engagement: Engagement, lots: [Lot.ID: Lot], today: CalendarDate, actor: Actor, reason: String?
    ) -> Result<EngagementTransition, Rejection> {
        guard engagement.status.isOpen else {
            return .failure(invalidTransition(engagement, to: .cancelled))
        }
        let why: String
        switch Text.required(reason ?? "engagement cancelled", field: "reason", max: Limits.reasonLengthMax, missing: .missingReason) {
        case .success(let value): why = value
        case .failure(let rejection): return .failure(rejection)
        }
        var entries: [LedgerEntry] = []
        for draw in engagement.draws {
            guard let lot = lots[draw.lot] else { preconditionFailure("engagement \(engagement.id) draws from unloaded lot \(draw.lot)") }
            entries.append(LedgerEntry(
                kind: .return, lot: draw.lot, customer: engagement.customer, program: engagement.program,
                creditsAvailableDelta: draw.credits, creditsHeldDelta: -draw.credits, effectiveOn: today,
                actor: actor.name, reason: why, document: "engagement/\(engagement.id)"))
            if lot.expiresOn <= today {
                entries.append(LedgerEntry(
                    kind: .expiry, lot: draw.lot, customer: engagement.customer, program: engagement.program,
                    creditsAvailableDelta: -draw.credits, creditsHeldDelta: 0, effectiveOn: today,
                    actor: actor.name, reason: "returned after the lot expired on \(lot.expiresOn)",
                    document: "engagement/\(engagement.id)"))
            }
        }
        return .success(finish(engagement, as: .cancelled, lots: lots, entries: entries, today: today))
    }

    static func finish(
        _ engagement: Engagement, as status: Engagement.Status, lots: [Lot.ID: Lot],
        entries: [LedgerEntry], today: CalendarDate
    ) -> EngagementTransition {
        var next = engagement
        next.status = status
        next.statusChangedOn = today
        var changed = lots
        for entry in entries {
            guard let lot = changed[entry.lot] else { preconditionFailure("entry for unloaded lot \(entry.lot)") }
            changed[entry.lot] = lot.applying(entry)
        }
        let touched = engagement.draws.compactMap { changed[$0.lot] }
        return EngagementTransition(engagement: next, lots: touched, entries: entries)
    }

    static func invalidTransition(_ engagement: Engagement, to status: Engagement.Status) -> Rejection {
        Rejection(.invalidTransition,
            "engagement \(engagement.id) is \(engagement.status.rawValue); it can't become \(status.rawValue)")
    }
}

/// R7: on its expiry date a lot's unused credits expire.
public enum Expiry {
    /// R7: credits are lost when their term ends, never earlier, so an expiry run can't be dated
    /// after today (the portal lets operations choose the date; the API and CLI use today).
    public static func checkRunDate(_ asOf: CalendarDate, today: CalendarDate) -> Rejection? {
        guard asOf > today else { return nil }
        return Rejection(.expiryAfterToday, "an expiry run can't be dated after today (\(today)); asked for \(asOf)")
    }

    /// The expiry entries due by `asOf`. Running it again writes nothing, since an expired lot has
    /// no available credits left and a later return to it expires at once (R13).
    public static func due(lots: [Lot], asOf: CalendarDate, actor: Actor) -> [LedgerEntry] {
        lots.filter { $0.expiresOn <= asOf && $0.creditsAvailable > 0 }
            .sorted { ($0.expiresOn, $0.id) < ($1.expiresOn, $1.id) }
            .map { lot in
                LedgerEntry(
                    kind: .expiry, lot: lot.id, customer: lot.customer, program: lot.program,
                    creditsAvailableDelta: -lot.creditsAvailable, creditsHeldDelta: 0,
                    effectiveOn: lot.expiresOn, actor: actor.name,
                    reason: "term ended on \(lot.expiresOn)", document: "expiry")
            }
    }
}
