/// A customer's quarterly statement (R14). Built only from ledger entries dated up to the end of
/// the quarter, so the same ledger gives the same statement whenever it is computed.
public struct Statement: Hashable, Sendable, Codable {
    public let customer: Customer.ID
    public let customerName: String
    public let quarter: String
    public let periodStartsOn: CalendarDate
    public let periodEndsOn: CalendarDate
    /// The quarter is still in progress: figures may change and the statement is not stored.
    public let provisional: Bool
    public let programs: [ProgramStatement]
}

public struct ProgramStatement: Hashable, Sendable, Codable {
    public let program: Program.ID
    public let openingBalance: Int
    public let purchased: Int
    public let calledOff: Int
    public let returned: Int
    public let expired: Int
    /// Net of positive and negative adjustments.
    public let adjusted: Int
    public let closingBalance: Int
    /// Not part of the balance: held credits spent by deliveries in the quarter.
    public let delivered: Int
    /// Credits held by open engagements at the end of the quarter.
    public let heldAtClose: Int
    public let lots: [StatementLot]
    public let callOffs: [StatementCallOff]
    /// Available credits at the close whose lots expire in the next quarter.
    public let expiringNextQuarter: Int
}

public struct StatementLot: Hashable, Sendable, Codable {
    public let lot: Lot.ID
    public let source: Lot.Source
    public let purchasedOn: CalendarDate
    public let expiresOn: CalendarDate
    public let creditsGranted: Int
    public let creditsRemaining: Int
    public let expiresNextQuarter: Bool
}

public struct StatementCallOff: Hashable, Sendable, Codable {
    public let engagement: Engagement.ID
    public let calledOffOn: CalendarDate
    public let title: String
    public let purchaseOrder: String
    public let sowReference: String
    public let credits: Int
    /// `open`, `delivered` or `cancelled` as at the end of the quarter.
    public let statusAtClose: String
}

public enum Statements {
    /// Whether the statement for `quarter` can be issued (and stored) on `today`, only viewed as
    /// provisional, or not at all yet.
    public enum Availability: Equatable, Sendable { case issuable, provisional, notStarted }

    public static func availability(of quarter: Quarter, today: CalendarDate) -> Availability {
        if quarter.endsOn < today { return .issuable }
        if quarter.startsOn <= today { return .provisional }
        return .notStarted
    }

    /// Whether a past quarter ended before the customer's history began: before its first lot
    /// there is nothing to state, so no statement is issued and stored for it (a reader could
    /// otherwise fill the store with empty statements back to 1900, hardening L3).
    public static func isBeforeHistory(_ quarter: Quarter, firstPurchaseOn: CalendarDate?) -> Bool {
        guard let firstPurchaseOn else { return true }
        return quarter.endsOn < firstPurchaseOn
    }

    /// Whether a customer's statement of `quarter` can be had as of `today`, and how: issued
    /// (stored for good) or provisional. Refused for a quarter not started yet, and for a past
    /// quarter before the customer's first lot.
    public static func issuing(
        _ quarter: Quarter, of customer: Customer.ID, today: CalendarDate, firstPurchaseOn: CalendarDate?
    ) -> Result<Availability, Rejection> {
        let availability = availability(of: quarter, today: today)
        switch availability {
        case .notStarted:
            return .failure(Rejection(.quarterNotStarted, "quarter \(quarter) starts on \(quarter.startsOn), after today (\(today))"))
        case .issuable where isBeforeHistory(quarter, firstPurchaseOn: firstPurchaseOn):
            return .failure(Rejection(.noStatement, "\(customer) has no statement for \(quarter): its first lot is "
                + (firstPurchaseOn.map { "of \($0)" } ?? "not bought yet")))
        default:
            return .success(availability)
        }
    }

    public static func compute(
        customer: Customer, programs: [Program.ID], quarter: Quarter, lots: [Lot],
        entries: [LedgerEntry], engagements: [Engagement], today: CalendarDate
    ) -> Result<Statement, Rejection> {
        let firstPurchaseOn = lots.filter { $0.customer == customer.id }.map(\.purchasedOn).min()
        let availability: Availability
        switch issuing(quarter, of: customer.id, today: today, firstPurchaseOn: firstPurchaseOn) {
        case .success(let value): availability = value
        case .failure(let rejection): return .failure(rejection)
        }
        let upToClose = entries.filter { $0.customer == customer.id && $0.effectiveOn <= quarter.endsOn }
        let sections = programs.map { program in
            section(program: program, quarter: quarter,
                    lots: lots.filter { $0.customer == customer.id && $0.program == program },
                    entries: upToClose.filter { $0.program == program },
                    engagements: engagements.filter { $0.customer == customer.id && $0.program == program })
        }
        return .success(Statement(
            customer: customer.id, customerName: customer.name, quarter: quarter.description,
            periodStartsOn: quarter.startsOn, periodEndsOn: quarter.endsOn,
            provisional: availability == .provisional, programs: sections))
    }

    static func section(
        program: Program.ID, quarter: Quarter, lots: [Lot], entries: [LedgerEntry], engagements: [Engagement]
    ) -> ProgramStatement {
        let before = entries.filter { $0.effectiveOn < quarter.startsOn }
        let during = entries.filter { quarter.contains($0.effectiveOn) }
        func total(_ kind: LedgerEntry.Kind) -> Int {
            during.filter { $0.kind == kind }.reduce(0) { $0 + $1.creditsAvailableDelta }
        }
        let opening = before.reduce(0) { $0 + $1.creditsAvailableDelta }
        let purchased = total(.purchase), calledOff = -total(.callOff), returned = total(.return)
        let expired = -total(.expiry), adjusted = total(.adjustment)
        let closing = opening + purchased - calledOff + returned - expired + adjusted
        precondition(closing == entries.reduce(0) { $0 + $1.creditsAvailableDelta }, "statement doesn't balance")
        let next = quarter.next
        let statementLots = lotsAtClose(lots, entries: entries, quarter: quarter)
        return ProgramStatement(
            program: program, openingBalance: opening, purchased: purchased, calledOff: calledOff,
            returned: returned, expired: expired, adjusted: adjusted, closingBalance: closing,
            delivered: -during.filter { $0.kind == .delivery }.reduce(0) { $0 + $1.creditsHeldDelta },
            heldAtClose: entries.reduce(0) { $0 + $1.creditsHeldDelta },
            lots: statementLots,
            callOffs: callOffs(engagements, entries: entries, quarter: quarter),
            expiringNextQuarter: statementLots.filter { next.contains($0.expiresOn) }.reduce(0) { $0 + $1.creditsRemaining })
    }

    /// Lots bought by the close and not expired before the quarter began, with what was left.
    static func lotsAtClose(_ lots: [Lot], entries: [LedgerEntry], quarter: Quarter) -> [StatementLot] {
        var remaining: [Lot.ID: Int] = [:]
        for entry in entries { remaining[entry.lot, default: 0] += entry.creditsAvailableDelta }
        let next = quarter.next
        return lots.filter { $0.purchasedOn <= quarter.endsOn && $0.expiresOn >= quarter.startsOn }
            .sorted { ($0.expiresOn, $0.purchasedOn, $0.id) < ($1.expiresOn, $1.purchasedOn, $1.id) }
            .map {
                StatementLot(lot: $0.id, source: $0.source, purchasedOn: $0.purchasedOn, expiresOn: $0.expiresOn,
                             creditsGranted: $0.creditsGranted, creditsRemaining: remaining[$0.id] ?? 0,
                             expiresNextQuarter: next.contains($0.expiresOn))
            }
    }

    /// Call-offs made in the quarter, with their status as the ledger shows it at the close.
    static func callOffs(_ engagements: [Engagement], entries: [LedgerEntry], quarter: Quarter) -> [StatementCallOff] {
        var closingKinds: [String: LedgerEntry.Kind] = [:]
        for entry in entries where entry.kind == .delivery || entry.kind == .return {
            closingKinds[entry.document] = entry.kind
        }
        return engagements.filter { quarter.contains($0.calledOffOn) }
            .sorted { ($0.calledOffOn, $0.id) < ($1.calledOffOn, $1.id) }
            .map { engagement in
                let status: String = switch closingKinds["engagement/\(engagement.id)"] {
                case .delivery: "delivered"
                case .return: "cancelled"
                default: "open"
                }
                return StatementCallOff(
                    engagement: engagement.id, calledOffOn: engagement.calledOffOn, title: engagement.title,
                    purchaseOrder: engagement.purchaseOrder, sowReference: engagement.sowReference,
                    credits: engagement.credits, statusAtClose: status)
            }
    }
}
