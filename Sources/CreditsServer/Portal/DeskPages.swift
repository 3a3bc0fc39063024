import CreditsCore
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird

/// The vendor's pages across customers: the customer list with what is at risk, the desk's runs
/// (expiry, quarterly statements), and finance's invoices and ledger.
extension Portal {
    static let listPageSize = 50

    func addDeskRoutes(to router: RouterGroup<DeskRequestContext>) {
        router.get("/customers") { request, _ -> Response in
            try await self.customersPage(after: request.uri.queryParameters.get("after") ?? "",
                                         notice: Notice(request.uri.queryParameters.get("done"), ref: request.uri.queryParameters.get("ref")))
        }
        router.post("/desk/expiry") { request, context -> Response in
            try await self.deskRun(request, context, form: "expiry") { form, actor in
                guard let asOf = try Self.date(form, "asOf") else { throw Rejection(.invalidDate, "asOf: give a date") }
                if let refusal = Expiry.checkRunDate(asOf, today: self.today()) { throw refusal }
                return try await self.store.expire(asOf: asOf, actor: actor).count
            }
        }
        router.post("/desk/statements") { request, context -> Response in
            try await self.deskRun(request, context, form: "statements") { form, actor in
                let text = try Self.required(form, "quarter")
                guard let quarter = Quarter(text, fiscalYearStartMonth: try await self.store.fiscalYearStartMonth()) else {
                    throw Rejection(.invalidInput, "quarter '\(text.prefix(20))' is not of the form 2026Q3")
                }
                return try await self.store.issueStatements(quarter: quarter, today: self.today(), actor: actor).issued
            }
        }
        router.get("/finance/invoices") { request, _ -> Response in try await self.invoicesPage(request) }
        router.get("/finance/ledger") { request, _ -> Response in try await self.ledgerPage(request, csv: false) }
        router.get("/finance/ledger/csv") { request, _ -> Response in try await self.ledgerPage(request, csv: true) }
    }

    /// Customers the visitor may see, with balances and the credits at risk within 90 days.
    func customersPage(after: String, notice: Notice?, forms: [String: FormView] = [:],
                       status: HTTPResponse.Status = .ok) async throws -> Response {
        guard let visitor = Visitor.current else { throw SignInRequired() }
        let principal = visitor.principal
        if principal.role == .customer { return Self.redirect(to: "/") }
        let today = self.today()
        // Account managers see their assigned customers only; the vendor-wide roles see all.
        let only = principal.may(.readDesk) ? nil : principal.customers
        let rows = try await store.overview(today: today, afterCustomer: String(after.prefix(Limits.codeLengthMax)),
                                            limit: Self.listPageSize, only: only)
        let cursor = rows.count == Self.listPageSize ? rows.last!.customer.id.rawValue : ""
        var model: [String: Any] = [
            "today": today.description, "notice": notice?.text as Any,
            "customers": rows.map { row in
                [
                    "id": row.customer.id.rawValue, "name": row.customer.name, "entity": row.customer.entity.rawValue,
                    "href": "/customers/\(FormData.encode(row.customer.id.rawValue))",
                    "available": row.creditsAvailable, "held": row.creditsHeld, "atRisk": row.creditsAtRisk,
                    "risky": row.creditsAtRisk > 0, "nextExpiry": row.nextExpiryOn?.description ?? "—",
                ] as [String: Any]
            },
            "next": (cursor.isEmpty ? nil : "/customers?after=\(FormData.encode(cursor))") as Any,
            "atRiskTotal": rows.reduce(0) { $0 + $1.creditsAtRisk },
        ]
        if principal.may(.operate) {
            let fiscalStart = try await store.fiscalYearStartMonth()
            let current = Quarter(containing: today, fiscalYearStartMonth: fiscalStart)
            let lastQuarter = Quarter(containing: current.startsOn.adding(days: -1), fiscalYearStartMonth: fiscalStart)
            var expiry = forms["expiry"] ?? FormView()
            expiry.values["asOf"] = expiry.values["asOf"] ?? today.description
            var statements = forms["statements"] ?? FormView()
            statements.values["quarter"] = statements.values["quarter"] ?? lastQuarter.description
            model["runs"] = ["expiry": expiry.model, "statements": statements.model]
        }
        return page("customers", title: "Customers", status: status, model)
    }

    /// An operations run from the customer list; refusals come back on that page.
    func deskRun(
        _ request: Request, _ context: DeskRequestContext, form name: String,
        _ run: (FormData, Actor) async throws -> Int
    ) async throws -> Response {
        let form = try await self.form(request, context: context)
        let principal = try authorize(.operate)
        do {
            try form.checkText()
            let count = try await run(form, principal.actor)
            return Self.redirect(to: "/customers?done=\(name)&ref=\(count)")
        } catch let rejection as Rejection {
            let values = form.typed
            let problem = ProblemBody(rejection: rejection)
            return try await customersPage(after: "", notice: nil, forms: [name: FormView(values: values, error: problem.detail)],
                                           status: HTTPResponse.Status(code: problem.status))
        }
    }

    /// Invoices (one per order) in a period, optionally of one entity; the current quarter by default.
    func invoicesPage(_ request: Request) async throws -> Response {
        try authorize(.readDesk)
        let query = request.uri.queryParameters
        let quarter = Quarter(containing: today(), fiscalYearStartMonth: try await store.fiscalYearStartMonth())
        let from = try DeskAPI.date(query.get("from"), field: "from") ?? quarter.startsOn
        let to = try DeskAPI.date(query.get("to"), field: "to") ?? quarter.endsOn
        let entities = try await store.entities()
        let entity = query.get("entity").flatMap { $0.isEmpty ? nil : Entity.ID(String($0.prefix(Limits.codeLengthMax))) }
        let orders = try await store.invoices(from: from, to: to, entity: entity)
        let exponents = Dictionary(uniqueKeysWithValues: entities.map { ($0.id, $0.currencyExponent) })
        var totals: [String: Int] = [:]
        for order in orders { totals[order.invoice.currency, default: 0] += order.invoice.amountMinor }
        return page("invoices", title: "Invoices", [
            "from": from.description, "to": to.description,
            "entities": [["value": "", "label": "All entities", "selected": entity == nil]]
                + entities.map { ["value": $0.id.rawValue, "label": "\($0.id) — \($0.name)", "selected": $0.id == entity] },
            "invoices": orders.map { order in
                [
                    "number": order.invoice.number, "issuedOn": order.invoice.issuedOn.description,
                    "customer": order.customer.rawValue, "customerHref": "/customers/\(FormData.encode(order.customer.rawValue))",
                    "entity": order.entity.rawValue, "purchaseOrder": order.purchaseOrder, "program": order.program.rawValue,
                    "credits": order.credits,
                    "amount": Money.format(order.invoice.amountMinor, currency: order.invoice.currency, exponent: exponents[order.entity]),
                ] as [String: Any]
            },
            "totals": totals.sorted { $0.key < $1.key }.map { currency, minor in
                let exponent = entities.first { $0.currency == currency }?.currencyExponent
                return ["amount": Money.format(minor, currency: currency, exponent: exponent)]
            },
            "count": orders.count,
        ])
    }

    /// The ledger, filtered by customer, dates and kind, a page at a time; or all of it as CSV.
    func ledgerPage(_ request: Request, csv: Bool) async throws -> Response {
        try authorize(.readDesk)
        let query = request.uri.queryParameters
        let customer = query.get("customer").flatMap { $0.isEmpty ? nil : Customer.ID(String($0.prefix(Limits.codeLengthMax))) }
        let from = try DeskAPI.date(query.get("from").flatMap { $0.isEmpty ? nil : $0 }, field: "from")
        let to = try DeskAPI.date(query.get("to").flatMap { $0.isEmpty ? nil : $0 }, field: "to")
        let kind = query.get("kind").flatMap { LedgerEntry.Kind(rawValue: $0) }
        let after = query.get("after").flatMap { Int($0) } ?? 0
        let limit = csv ? 10_000 : 100
        let entries = try await store.ledger(customer: customer, from: from, to: to, afterSeq: after, limit: limit, kind: kind)
        if csv {
            return Self.download(LedgerFormat.csv(entries), contentType: "text/csv; charset=utf-8", filename: "ledger.csv")
        }
        var filters = [("customer", customer?.rawValue), ("from", from?.description), ("to", to?.description), ("kind", kind?.rawValue)]
            .compactMap { name, value in value.map { "\(name)=\(FormData.encode($0))" } }
        let csvHref = "/finance/ledger/csv?" + filters.joined(separator: "&")
        filters.append("after=\(entries.last?.seq ?? after)")
        return page("ledger", title: "Ledger", [
            "customer": customer?.rawValue ?? "", "from": from?.description ?? "", "to": to?.description ?? "",
            "kinds": [["value": "", "label": "All kinds", "selected": kind == nil]]
                + LedgerEntry.Kind.allCases.map { ["value": $0.rawValue, "label": $0.rawValue, "selected": $0 == kind] },
            "entries": entries.map { recorded in
                [
                    "seq": recorded.seq, "effectiveOn": recorded.entry.effectiveOn.description, "kind": recorded.entry.kind.rawValue,
                    "customer": recorded.entry.customer.rawValue, "program": recorded.entry.program.rawValue,
                    "lot": recorded.entry.lot.rawValue, "available": recorded.entry.creditsAvailableDelta,
                    "held": recorded.entry.creditsHeldDelta, "document": recorded.entry.document,
                    "actor": recorded.entry.actor, "reason": recorded.entry.reason,
                ] as [String: Any]
            },
            "csv": csvHref,
            "next": (entries.count == limit ? "/finance/ledger?" + filters.joined(separator: "&") : nil) as Any,
        ])
    }
}
