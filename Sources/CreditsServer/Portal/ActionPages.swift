import CreditsCore
import CreditsStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import SQLKit

/// What a form shows: the values sent last time (after a refusal), the rule's message, and a
/// fresh idempotency key so a double click or a resent form has one effect.
struct FormView {
    var values: [String: String] = [:]
    var error: String?

    var model: [String: Any] {
        ["v": values, "error": error as Any, "key": UUID().uuidString]
    }
}

/// A form the core refused (perhaps earlier, for the same key): the page is shown again with
/// what was typed and why.
struct FormRefused: Error {
    let problem: ProblemBody
}

/// The vendor's forms on a customer's page: orders, call-offs, engagement steps, adjustments.
extension Portal {
    func addActionRoutes(to router: RouterGroup<DeskRequestContext>) {
        router.post("/customers/{customer}/orders") { request, context -> Response in
            let id = Customer.ID(try context.parameters.require("customer"))
            return try await self.submit("order", customer: id, request, context) { form in
                try self.authorize(.act(for: id))
                let order = try Self.orderRequest(id, form)
                let today = self.today()
                return try await self.perform("placeOrder", form) { sql, recordedAt, actor in
                    try await DeskStore.placeOrder(order, today: today, actor: actor, recordedAt: recordedAt, on: sql).id.rawValue
                }
            }
        }
        router.post("/customers/{customer}/call-offs") { request, context -> Response in
            let id = Customer.ID(try context.parameters.require("customer"))
            return try await self.submit("call-off", customer: id, request, context) { form in
                try self.authorize(.act(for: id))
                let callOff = try Self.callOffRequest(id, form)
                let today = self.today()
                return try await self.perform("callOff", form) { sql, recordedAt, actor in
                    try await DeskStore.callOff(callOff, today: today, actor: actor, recordedAt: recordedAt, on: sql).id.rawValue
                }
            }
        }
        router.post("/customers/{customer}/adjustments") { request, context -> Response in
            let id = Customer.ID(try context.parameters.require("customer"))
            return try await self.submit("adjust", customer: id, request, context) { form in
                try self.authorize(.readCustomer(id))
                let adjustment = try Self.adjustmentRequest(id, form)
                let today = self.today()
                return try await self.perform("adjust", form) { sql, recordedAt, actor in
                    try await DeskStore.adjust(adjustment, today: today, actor: actor, recordedAt: recordedAt, on: sql).lot.id.rawValue
                }
            }
        }
        router.post("/engagements/{engagement}/{action}") { request, context -> Response in
            guard let number = Int(try context.parameters.require("engagement")),
                let action = DeskStore.EngagementAction(rawValue: try context.parameters.require("action"))
            else { return Self.notFoundPage(self) }
            let engagement = try await self.store.engagement(Engagement.ID(number))
            return try await self.submit(action.rawValue, customer: engagement.customer, request, context, formName: "engagements") { form in
                try self.authorize(.act(for: engagement.customer))
                let today = self.today()
                let reason = form["reason"]
                _ = try await self.perform("engagement-\(number)-\(action.rawValue)", form) { sql, recordedAt, actor in
                    try await DeskStore.transition(engagement.id, action, reason: reason, today: today, actor: actor,
                                                   recordedAt: recordedAt, on: sql).id.rawValue
                }
                return number
            }
        }
    }

    /// Reads a form, runs it, and answers with a redirect to the customer's page (so a reload
    /// doesn't resend it), or with the page again showing the refusal next to the form.
    func submit(
        _ done: String, customer: Customer.ID, _ request: Request, _ context: DeskRequestContext, formName: String? = nil,
        _ body: (FormData) async throws -> Int
    ) async throws -> Response {
        let form = try await self.form(request, context: context)
        let problem: ProblemBody
        do {
            try form.checkText()
            let ref = try await body(form)
            return Self.redirect(to: "/customers/\(FormData.encode(customer.rawValue))?done=\(done)&ref=\(ref)")
        } catch let rejection as Rejection where ProblemBody.status(of: rejection.code) != 404 {
            problem = ProblemBody(rejection: rejection)
        } catch let refused as FormRefused {
            problem = refused.problem
        }
        let values = form.typed
        return try await dashboard(customer, forms: [formName ?? done: FormView(values: values, error: problem.detail)],
                                   status: HTTPResponse.Status(code: problem.status))
    }

    /// Runs a write once per form key, like the API's Idempotency-Key; refusals come back as `FormRefused`.
    func perform(
        _ operation: String, _ form: FormData, _ write: @escaping @Sendable (any SQLDatabase, String, Actor) async throws -> Int
    ) async throws -> Int {
        guard let visitor = Visitor.current else { throw SignInRequired() }
        let actor = visitor.principal.actor
        let hash = Hex.string(SHA256.hash(data: Data((operation + "\n" + form.requestText).utf8)))
        let outcome = try await store.idempotentWrite(
            principal: actor.name, key: form["key"].map { "portal-" + String($0.prefix(100)) }, requestHash: hash,
            refusal: { StoredResponse(status: ProblemBody.status(of: $0.code), body: ProblemBody(rejection: $0).json) },
            answer: { StoredResponse(status: 201, body: String($0)) }
        ) { sql, recordedAt in
            try await write(sql, recordedAt, actor)
        }
        switch outcome {
        case .written(let id): return id
        case .answered(let stored) where stored.status < 300: return Int(stored.body) ?? 0
        case .answered(let stored): throw FormRefused(problem: try Wire.decode(ProblemBody.self, from: stored.body))
        }
    }

    static func orderRequest(_ customer: Customer.ID, _ form: FormData) throws -> OrderRequest {
        let lines = (form["blocks"] ?? "").split(whereSeparator: { $0 == "," || $0 == " " || $0 == "+" })
        guard !lines.isEmpty, lines.count <= Limits.blockLinesPerOrderMax else {
            throw Rejection(.invalidInput, "blocks: write them as SIZExCOUNT, e.g. 10x2, 25 (1 to \(Limits.blockLinesPerOrderMax) lines)")
        }
        return OrderRequest(
            customer: customer, program: Program.ID(try required(form, "program")), entity: Entity.ID(try required(form, "entity")),
            purchaseOrder: form["purchaseOrder"], blocks: try lines.map { try BlockLine.parse(String($0)).get() },
            requestedPriceMinor: nil, discountPercent: nil)
    }

    static func callOffRequest(_ customer: Customer.ID, _ form: FormData) throws -> CallOffRequest {
        var custom: CustomEngagement?
        if form["offering"] == nil {
            guard let kind = EngagementKind(rawValue: try required(form, "kind")) else {
                throw Rejection(.invalidInput, "kind must be one of \(EngagementKind.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            let deliverables = (form["deliverables"] ?? "").split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            custom = CustomEngagement(
                title: try required(form, "title"), kind: kind, pricing: .fixedScope, deliverables: deliverables,
                credits: try Credits.parse(try required(form, "credits")).get())
        }
        guard let plannedEnd = try date(form, "plannedEndOn") else {
            throw Rejection(.invalidDate, "plannedEndOn: give the planned end date")
        }
        return CallOffRequest(
            customer: customer, program: Program.ID(try required(form, "program")), purchaseOrder: form["purchaseOrder"],
            sowReference: form["sowReference"], sowSignedOn: try date(form, "sowSignedOn"),
            offering: form["offering"].map(Offering.ID.init), custom: custom,
            plannedEndOn: plannedEnd)
    }

    static func adjustmentRequest(_ customer: Customer.ID, _ form: FormData) throws -> AdjustmentRequest {
        var lot: Lot.ID?
        if let text = form["lot"] {
            guard let number = Int(text) else { throw Rejection(.invalidInput, "lot is a lot number, got '\(text.prefix(20))'") }
            lot = Lot.ID(number)
        }
        return AdjustmentRequest(
            customer: customer, lot: lot, program: form["program"].map(Program.ID.init),
            credits: try Credits.parseSigned(try required(form, "credits")).get(),
            reason: form["reason"], expiresOn: try date(form, "expiresOn"))
    }

    static func required(_ form: FormData, _ field: String) throws -> String {
        guard let value = form[field] else { throw Rejection(.invalidInput, "\(field) is required") }
        return value
    }

    static func date(_ form: FormData, _ field: String) throws -> CalendarDate? {
        guard let text = form[field] else { return nil }
        guard let date = CalendarDate(text) else {
            throw Rejection(.invalidDate, "\(field) '\(text.prefix(40))' is not a date of the form YYYY-MM-DD")
        }
        return date
    }

    /// The order and call-off forms of a customer's page, with their choices.
    func actForms(
        _ customer: Customer, entities: [Entity], programs: [Program.ID], forms: [String: FormView]
    ) async throws -> [String: Any] {
        let allPrograms = try await store.programs()
        let offerings = try await store.offerings().filter { $0.entities.contains(customer.entity) }
        func options(_ pairs: [(String, String)], selected: String?) -> [[String: Any]] {
            pairs.map { ["value": $0.0, "label": $0.1, "selected": $0.0 == selected] }
        }
        var order = forms["order"] ?? FormView()
        var callOff = forms["call-off"] ?? FormView()
        // The customer's own entity and the program it holds (PSC for a new customer) come first.
        let usual = programs.first?.rawValue ?? Program.professional.id.rawValue
        order.values["entity"] = order.values["entity"] ?? customer.entity.rawValue
        order.values["program"] = order.values["program"] ?? usual
        callOff.values["program"] = callOff.values["program"] ?? usual
        let programChoices = allPrograms.map { ($0.id.rawValue, "\($0.id) — \($0.name)") }
        return [
            "order": order.model.merging([
                "programs": options(programChoices, selected: order.values["program"]),
                "entities": options(entities.map { ($0.id.rawValue, "\($0.id) — \($0.name) (\($0.currency))") },
                                    selected: order.values["entity"]),
            ]) { $1 },
            "callOff": callOff.model.merging([
                "programs": options(programChoices, selected: callOff.values["program"]),
                "offerings": options([("", "Custom engagement (below)")]
                    + offerings.map { ($0.id.rawValue, "\($0.name) — \($0.credits) credits") }, selected: callOff.values["offering"] ?? ""),
                "kinds": options(EngagementKind.allCases.map { ($0.rawValue, $0.rawValue) }, selected: callOff.values["kind"] ?? "assessment"),
            ]) { $1 },
            "engagements": (forms["engagements"] ?? FormView()).model,
        ]
    }
}
