import CreditsCore
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird

/// The pages of one customer: the dashboard (balances, burn-down, lots, engagements, orders,
/// statements, and for the vendor's team the forms that act on them) and its statements.
extension Portal {
    func addCustomerRoutes(to router: RouterGroup<DeskRequestContext>) {
        router.get("/") { _, _ -> Response in
            guard let visitor = Visitor.current else { return Self.redirect(to: "/sign-in") }
            if visitor.principal.role == .customer, let own = visitor.principal.customers.sorted().first {
                return Self.redirect(to: "/customers/\(FormData.encode(own.rawValue))")
            }
            return Self.redirect(to: "/customers")
        }
        router.get("/customers/{customer}") { request, context -> Response in
            let id = Customer.ID(try context.parameters.require("customer"))
            let notice = Notice(request.uri.queryParameters.get("done"), ref: request.uri.queryParameters.get("ref"))
            return try await self.dashboard(id, notice: notice)
        }
        router.get("/customers/{customer}/statements/{quarter}") { _, context -> Response in
            let document = try await self.statement(context)
            return self.statementPage(document)
        }
        router.get("/customers/{customer}/statements/{quarter}/csv") { _, context -> Response in
            let document = try await self.statement(context)
            return Self.download(StatementFormat.csv(document.statement), contentType: "text/csv; charset=utf-8",
                                 filename: "statement-\(document.statement.customer)-\(document.statement.quarter).csv")
        }
        router.get("/customers/{customer}/statements/{quarter}/json") { _, context -> Response in
            let document = try await self.statement(context)
            return Self.download(document.json, contentType: "application/json",
                                 filename: "statement-\(document.statement.customer)-\(document.statement.quarter).json")
        }
    }

    /// The customer's page. `forms` carries what a rejected form sent, to show it again with the rule's message.
    func dashboard(_ id: Customer.ID, notice: Notice? = nil, forms: [String: FormView] = [:],
                   status: HTTPResponse.Status = .ok) async throws -> Response {
        let principal = try authorize(.readCustomer(id))
        let today = self.today()
        let summary = try await store.summary(of: id, today: today)
        let history = try await store.history(of: id)
        let held = Set(summary.lots.map(\.program))
        let entities = try await store.entities()
        let exponents = Dictionary(uniqueKeysWithValues: entities.map { ($0.id, $0.currencyExponent) })
        let balances = summary.balances.filter { held.contains($0.program) }
        var model: [String: Any] = [
            "customer": ["id": id.rawValue, "name": summary.customer.name, "entity": summary.customer.entity.rawValue],
            "today": today.description,
            "notice": notice?.text as Any,
            "balances": balances.map(Self.balanceView),
            "hasCredits": !balances.isEmpty,
            "charts": balances.map { balance in
                let chart = BurnDown.compute(program: balance.program, entries: history, lots: summary.lots, today: today)
                return ["program": balance.program.rawValue, "svg": BurnDownChart.svg(chart, id: "chart-\(balance.program)"),
                        "caption": BurnDownChart.description(chart)]
            },
            "lots": summary.lots.sorted { ($0.expiresOn, $0.id) < ($1.expiresOn, $1.id) }.map { Self.lotView($0, today: today) },
            "engagements": summary.engagements.reversed().map { Self.engagementView($0, principal: principal) },
            "orders": summary.orders.reversed().map { Self.orderView($0, exponents: exponents) },
            "statements": try await statementLinks(id, lots: summary.lots, today: today),
        ]
        if principal.may(.act(for: id)) {
            model["actForms"] = try await actForms(summary.customer, entities: entities, programs: balances.map(\.program), forms: forms)
        }
        if principal.may(.operate) {
            model["adjustForm"] = (forms["adjust"] ?? FormView()).model
        }
        return page("dashboard", title: summary.customer.name, status: status, model)
    }

    static func balanceView(_ balance: ProgramBalance) -> [String: Any] {
        [
            "program": balance.program.rawValue, "available": balance.creditsAvailable, "held": balance.creditsHeld,
            "within30": balance.creditsExpiringWithin30Days, "within60": balance.creditsExpiringWithin60Days,
            "within90": balance.creditsExpiringWithin90Days, "atRisk": balance.creditsExpiringWithin90Days > 0,
            "nextExpiry": balance.nextExpiryOn?.description ?? "—",
        ]
    }

    static func lotView(_ lot: Lot, today: CalendarDate) -> [String: Any] {
        let days = today.days(until: lot.expiresOn)
        let term = lot.isUsable(on: today) ? "expires in \(days) day\(days == 1 ? "" : "s")" : "expired"
        return [
            "id": lot.id.rawValue, "program": lot.program.rawValue, "source": lot.source.rawValue,
            "purchasedOn": lot.purchasedOn.description, "expiresOn": lot.expiresOn.description, "term": term,
            "granted": lot.creditsGranted, "available": lot.creditsAvailable, "held": lot.creditsHeld,
            "soon": lot.isUsable(on: today) && days <= 90 && lot.creditsAvailable > 0,
        ]
    }

    static func engagementView(_ view: DeskStore.EngagementView, principal: Principal) -> [String: Any] {
        let engagement = view.engagement
        let mayAct = principal.may(.act(for: engagement.customer))
        return [
            "id": engagement.id.rawValue, "title": engagement.title, "program": engagement.program.rawValue,
            "kind": engagement.kind.rawValue, "credits": engagement.credits, "status": engagement.status.rawValue,
            "calledOffOn": engagement.calledOffOn.description, "plannedEndOn": engagement.plannedEndOn.description,
            "purchaseOrder": engagement.purchaseOrder, "sow": engagement.sowReference, "overdue": view.overdue,
            "draws": engagement.draws.map { "lot \($0.lot): \($0.credits)" }.joined(separator: ", "),
            "canStart": mayAct && engagement.status == .scheduled, "key": UUID().uuidString,
            "canFinish": mayAct && engagement.status.isOpen,
        ]
    }

    static func orderView(_ order: Order, exponents: [Entity.ID: Int]) -> [String: Any] {
        [
            "id": order.id.rawValue, "program": order.program.rawValue, "purchaseOrder": order.purchaseOrder,
            "orderedOn": order.orderedOn.description, "credits": order.credits, "lot": order.lot.rawValue,
            "invoice": order.invoice.number, "amount": Money.format(order.invoice.amountMinor, currency: order.invoice.currency, exponent: exponents[order.entity]),
        ]
    }

    /// Every quarter from the customer's first lot to the current one, newest first.
    func statementLinks(_ id: Customer.ID, lots: [Lot], today: CalendarDate) async throws -> [[String: Any]] {
        guard let first = lots.map(\.purchasedOn).min() else { return [] }
        let fiscalStart = try await store.fiscalYearStartMonth()
        var quarter = Quarter(containing: first, fiscalYearStartMonth: fiscalStart)
        var links: [[String: Any]] = []
        while quarter.startsOn <= today, links.count < 80 {
            let provisional = Statements.availability(of: quarter, today: today) == .provisional
            links.append(["quarter": quarter.description, "provisional": provisional,
                          "href": "/customers/\(FormData.encode(id.rawValue))/statements/\(quarter)"])
            quarter = quarter.next
        }
        return links.reversed()
    }

    func statement(_ context: DeskRequestContext) async throws -> DeskStore.StatementDocument {
        let id = Customer.ID(try context.parameters.require("customer"))
        try authorize(.readCustomer(id))
        let text = try context.parameters.require("quarter")
        guard let quarter = Quarter(text, fiscalYearStartMonth: try await store.fiscalYearStartMonth()) else {
            throw Rejection(.unknownCustomer, "no such statement")
        }
        return try await store.statement(of: id, quarter: quarter, today: today())
    }

    func statementPage(_ document: DeskStore.StatementDocument) -> Response {
        let statement = document.statement
        let base = "/customers/\(FormData.encode(statement.customer.rawValue))/statements/\(statement.quarter)"
        return page("statement", title: "Statement \(statement.quarter) — \(statement.customerName)", [
            "statement": statement, "issuedOn": document.issuedOn?.description as Any,
            "csv": base + "/csv", "json": base + "/json",
            "back": "/customers/\(FormData.encode(statement.customer.rawValue))",
            "programs": statement.programs.map { program in
                [
                    "program": program.program.rawValue,
                    "figures": [
                        ("Opening balance", program.openingBalance), ("Purchased", program.purchased),
                        ("Called off", -program.calledOff), ("Returned", program.returned), ("Expired", -program.expired),
                        ("Adjusted", program.adjusted), ("Closing balance", program.closingBalance),
                    ].map { ["label": $0.0, "credits": $0.1] },
                    "delivered": program.delivered, "heldAtClose": program.heldAtClose,
                    "expiringNextQuarter": program.expiringNextQuarter, "expiringRisk": program.expiringNextQuarter > 0,
                    "lots": program.lots, "callOffs": program.callOffs,
                ] as [String: Any]
            },
        ])
    }
}

/// A confirmation after a form did its work, from a closed set: the query string can't make
/// the page say anything else.
struct Notice {
    let text: String

    init?(_ kind: String?, ref: String?) {
        let ref = ref.flatMap { Int($0) }.map(String.init) ?? ""
        switch kind {
        case "order": text = "Order \(ref) placed; its invoice is in the orders below."
        case "call-off": text = "Engagement \(ref) called off; its credits are held until it is delivered or cancelled."
        case "start": text = "Engagement \(ref) is in delivery."
        case "deliver": text = "Engagement \(ref) delivered; its held credits are spent."
        case "cancel": text = "Engagement \(ref) cancelled; its credits are back."
        case "adjust": text = "Adjustment recorded."
        case "expiry": text = "Expiry run done: \(ref) ledger entries written."
        case "statements": text = "Statements issued: \(ref) new."
        default: return nil
        }
    }
}
