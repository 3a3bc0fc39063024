import CreditsCore
import CreditsStore

/// Human-readable renderings for the terminal.
enum Describe {
    static func balance(_ balance: ProgramBalance) -> String {
        let next = balance.nextExpiryOn.map { ", next expiry \($0)" } ?? ""
        return "\(balance.program): \(balance.creditsAvailable) available, \(balance.creditsHeld) held; expiring within 30/60/90 days: \(balance.creditsExpiringWithin30Days)/\(balance.creditsExpiringWithin60Days)/\(balance.creditsExpiringWithin90Days)\(next)"
    }

    static func engagement(_ engagement: Engagement) -> String {
        let draws = engagement.draws.map { "lot \($0.lot): \($0.credits)" }.joined(separator: ", ")
        return "engagement \(engagement.id) [\(engagement.status.rawValue)] \(engagement.customer) \(engagement.program) \(engagement.credits) credits — \(engagement.title) (\(engagement.kind.rawValue)); PO \(engagement.purchaseOrder), SOW \(engagement.sowReference) signed \(engagement.sowSignedOn); called off \(engagement.calledOffOn), planned end \(engagement.plannedEndOn); draws: \(draws)"
    }

    static func summary(_ summary: DeskStore.CustomerSummary, today: CalendarDate) -> String {
        var lines = ["\(summary.customer.name) (\(summary.customer.id)), served by \(summary.customer.entity), as of \(today)"]
        lines += summary.balances.map { "  " + balance($0) }
        lines.append("Lots:")
        for lot in summary.lots.sorted(by: { ($0.expiresOn, $0.id) < ($1.expiresOn, $1.id) }) {
            let state = lot.expiresOn <= today ? "expired" : "\(today.days(until: lot.expiresOn)) days left"
            lines.append("  lot \(lot.id) \(lot.program) \(lot.source.rawValue): bought \(lot.purchasedOn), expires \(lot.expiresOn) (\(state)); \(lot.creditsAvailable) available, \(lot.creditsHeld) held of \(lot.creditsGranted)")
        }
        lines.append("Orders:")
        for order in summary.orders {
            lines.append("  order \(order.id) \(order.orderedOn) PO \(order.purchaseOrder): \(order.credits) \(order.program) credits, invoice \(order.invoice.number) \(order.invoice.amountMinor) \(order.invoice.currency) minor units")
        }
        lines.append("Engagements:")
        for view in summary.engagements {
            let e = view.engagement
            lines.append("  engagement \(e.id) [\(e.status.rawValue)\(view.overdue ? ", OVERDUE" : "")] \(e.calledOffOn) → \(e.plannedEndOn): \(e.credits) \(e.program) credits, \(e.title)")
        }
        return lines.joined(separator: "\n")
    }
}
