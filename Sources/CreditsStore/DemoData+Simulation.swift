import CreditsCore
import Foundation

extension DemoData {
    static let offeringsByProgram: [String: [String]] = [
        "PSC": ["net-assess", "dc-design", "campus-deploy", "wan-migrate"],
        "FSC": ["net-assess", "dc-design", "sec-review", "campus-deploy"],
    ]

    /// One business day: each customer may order, call off, or move an engagement along.
    mutating func simulate(_ day: CalendarDate) async throws {
        for (index, customer) in customers.enumerated() {
            let program = index % 3 == 2 ? "FSC" : "PSC"
            if Int.random(in: 0..<120, using: &random) == 0 || (day == today.adding(months: -24).adding(days: index)) {
                try await order(customer, program: program, on: day)
            }
            if Int.random(in: 0..<25, using: &random) == 0 {
                try await callOff(customer, program: program, on: day)
            }
        }
        if day.day % 7 == 0 { try await progressEngagements(on: day) }
    }

    mutating func order(_ customer: Customer, program: String, on day: CalendarDate) async throws {
        let blocks = [[BlockLine(size: 50, count: 1)], [BlockLine(size: 25, count: 2)],
                      [BlockLine(size: 10, count: 3), BlockLine(size: 1, count: 5)], [BlockLine(size: 50, count: 2)]]
        let request = OrderRequest(
            customer: customer.id, program: Program.ID(program), entity: customer.entity,
            purchaseOrder: "PO-\(customer.id.rawValue.uppercased())-\(day.year)\(day.month)\(day.day)",
            blocks: blocks.randomElement(using: &random)!)
        if try await attempt({ store, actor in _ = try await store.placeOrder(request, today: day, actor: actor) }) {
            summary.orders += 1
        }
    }

    mutating func callOff(_ customer: Customer, program: String, on day: CalendarDate) async throws {
        let offering = Self.offeringsByProgram[program]!.randomElement(using: &random)!
        let request = CallOffRequest(
            customer: customer.id, program: Program.ID(program), purchaseOrder: "PO-CO-\(customer.id)-\(day)",
            sowReference: "SOW-\(customer.id.rawValue.uppercased())-\(day.year)-\(day.month)\(day.day)",
            sowSignedOn: day.adding(days: -Int.random(in: 1...14, using: &random)),
            offering: Offering.ID(offering), plannedEndOn: day.adding(days: Int.random(in: 20...120, using: &random)))
        if try await attempt({ store, actor in _ = try await store.callOff(request, today: day, actor: actor) }) {
            summary.callOffs += 1
        }
    }

    /// Starts engagements a week or so after call-off, delivers most by their planned end,
    /// cancels a few.
    mutating func progressEngagements(on day: CalendarDate) async throws {
        for customer in customers {
            for view in try await store.summary(of: customer.id, today: day).engagements where view.engagement.status.isOpen {
                let engagement = view.engagement
                let roll = Int.random(in: 0..<100, using: &random)
                if engagement.status == .scheduled && roll < 6 {
                    try await attempt { store, actor in _ = try await store.transition(engagement.id, .cancel, reason: "customer postponed the project", today: day, actor: actor) }
                    summary.cancellations += 1
                } else if engagement.status == .scheduled && engagement.calledOffOn.days(until: day) >= 7 {
                    try await attempt { store, actor in _ = try await store.transition(engagement.id, .start, today: day, actor: actor) }
                } else if engagement.status == .inDelivery && day >= engagement.plannedEndOn.adding(days: -3) && roll < 80 {
                    try await attempt { store, actor in _ = try await store.transition(engagement.id, .deliver, today: day, actor: actor) }
                    summary.deliveries += 1
                }
            }
        }
    }

    /// Runs an operation the rules may refuse (not enough credits, say): a refusal is part of a
    /// realistic day and is counted, not fatal.
    @discardableResult
    mutating func attempt(_ body: @Sendable (DeskStore, Actor) async throws -> Void) async throws -> Bool {
        do {
            try await body(store, actor)
            return true
        } catch is Rejection {
            summary.refusedByRules += 1
            return false
        }
    }
}
