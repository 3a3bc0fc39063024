import CreditsCore
import CreditsStore
import Foundation
import OpenAPIRuntime
import SQLKit

/// Orders, call-offs, engagements, adjustments, expiry, balances and statements.
extension DeskAPI {
    func getBalances(_ input: Operations.GetBalances.Input) async throws -> Operations.GetBalances.Output {
        try await respond(Operations.GetBalances.Output.default) {
            let id = Customer.ID(input.path.customerId)
            try authorize(.readCustomer(id))
            return .ok(.init(body: .json(try await store.balances(of: id, today: today()).map(Components.Schemas.Balance.init))))
        }
    }

    func listLots(_ input: Operations.ListLots.Input) async throws -> Operations.ListLots.Output {
        try await respond(Operations.ListLots.Output.default) {
            let id = Customer.ID(input.path.customerId)
            try authorize(.readCustomer(id))
            return .ok(.init(body: .json(try Wire.convert(try await store.summary(of: id, today: today()).lots))))
        }
    }

    func getStatement(_ input: Operations.GetStatement.Input) async throws -> Operations.GetStatement.Output {
        try await respond(Operations.GetStatement.Output.default) {
            let id = Customer.ID(input.path.customerId)
            try authorize(.readCustomer(id))
            let fiscalStart = try await store.fiscalYearStartMonth()
            guard let quarter = Quarter(input.path.quarter, fiscalYearStartMonth: fiscalStart) else {
                throw Rejection(.invalidInput, "quarter '\(input.path.quarter.prefix(20))' is not of the form 2026Q3")
            }
            let document = try await store.statement(of: id, quarter: quarter, today: today())
            let wantsCSV = input.headers.accept.contains { $0.contentType == .csv }
                && !input.headers.accept.contains { $0.contentType == .json && $0.quality.doubleValue >= 1 }
            if wantsCSV {
                return .ok(.init(body: .csv(HTTPBody(StatementFormat.csv(document.statement)))))
            }
            return .ok(.init(body: .json(try Wire.decode(Components.Schemas.Statement.self, from: document.json))))
        }
    }

    func placeOrder(_ input: Operations.PlaceOrder.Input) async throws -> Operations.PlaceOrder.Output {
        try await respond(Operations.PlaceOrder.Output.default) {
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let request = OrderRequest(
                customer: Customer.ID(body.customer), program: Program.ID(body.program), entity: Entity.ID(body.entity),
                purchaseOrder: body.purchaseOrder, blocks: body.blocks.map { BlockLine(size: $0.size, count: $0.count) },
                requestedPriceMinor: body.priceMinor, discountPercent: body.discountPercent)
            try authorize(.act(for: request.customer))
            let today = today()
            return try await write("placeOrder", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Order.self, problem: Operations.PlaceOrder.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, recordedAt, actor in
                try await DeskStore.placeOrder(request, today: today, actor: actor, recordedAt: recordedAt, on: sql)
            }
        }
    }

    func callOff(_ input: Operations.CallOff.Input) async throws -> Operations.CallOff.Output {
        try await respond(Operations.CallOff.Output.default) {
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let request = CallOffRequest(
                customer: Customer.ID(body.customer), program: Program.ID(body.program), purchaseOrder: body.purchaseOrder,
                sowReference: body.sowReference, sowSignedOn: try Self.date(body.sowSignedOn, field: "sowSignedOn"),
                offering: body.offering.map(Offering.ID.init), custom: try body.custom.map(Self.custom),
                plannedEndOn: try Self.requiredDate(body.plannedEndOn, field: "plannedEndOn"))
            try authorize(.act(for: request.customer))
            let today = today()
            let metrics = self.metrics
            return try await write("callOff", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Engagement.self, problem: Operations.CallOff.Output.default,
                                   success: { .created(.init(body: .json($0))) }, view: { try $0.schema },
                                   written: { metrics.recordCallOff(credits: $0.engagement.credits) },
                                   readingAhead: ReadAhead(callOff: CallOffTarget(customer: request.customer, program: request.program))
            ) { sql, recordedAt, actor in
                // Runs inside a batch and may run twice (BatchWriter): the metric waits for the answer.
                let engagement = try await DeskStore.callOff(request, today: today, actor: actor, recordedAt: recordedAt, on: sql)
                return EngagementBody(engagement: engagement, overdue: false)
            }
        }
    }

    static func custom(_ body: Components.Schemas.CustomEngagement) throws -> CustomEngagement {
        CustomEngagement(title: body.title, kind: try Wire.sameCase(body.kind), pricing: try Wire.sameCase(body.pricing),
                         deliverables: body.deliverables, credits: body.credits)
    }

    func getEngagement(_ input: Operations.GetEngagement.Input) async throws -> Operations.GetEngagement.Output {
        try await respond(Operations.GetEngagement.Output.default) {
            let engagement = try await visibleEngagement(input.path.engagementId)
            return .ok(.init(body: .json(try await view(engagement).schema)))
        }
    }

    /// The engagement, if the caller may see its customer; otherwise it doesn't exist.
    func visibleEngagement(_ id: Int) async throws -> Engagement {
        let engagement = try await store.engagement(Engagement.ID(id))
        guard try principal().sees(engagement.customer) else {
            throw Rejection(.unknownEngagement, "no engagement \(id)")
        }
        return engagement
    }

    func view(_ engagement: Engagement) async throws -> EngagementBody {
        let lots = try await store.lots(engagement.draws.map(\.lot))
        let expiries = Dictionary(uniqueKeysWithValues: lots.map { ($0.id, $0.expiresOn) })
        return EngagementBody(engagement: engagement, overdue: engagement.isOverdue(on: today(), lotExpiries: expiries))
    }

    func moveEngagement(_ input: Operations.MoveEngagement.Input) async throws -> Operations.MoveEngagement.Output {
        try await respond(Operations.MoveEngagement.Output.default) {
            let engagement = try await visibleEngagement(input.path.engagementId)
            try authorize(.act(for: engagement.customer))
            let action: DeskStore.EngagementAction = switch input.path.action {
            case .start: .start
            case .deliver: .deliver
            case .cancel: .cancel
            }
            var reason: String?
            if case .json(let body) = input.body { reason = body.reason }
            struct Request: Encodable, Sendable { let id: Int; let action: String; let reason: String? }
            let today = today()
            return try await write("moveEngagement", key: input.headers.idempotencyKey,
                                   request: Request(id: input.path.engagementId, action: action.rawValue, reason: reason),
                                   status: 200, as: Components.Schemas.Engagement.self,
                                   problem: Operations.MoveEngagement.Output.default,
                                   success: { .ok(.init(body: .json($0))) }, view: { try $0.schema }) { [reason] sql, recordedAt, actor in
                let moved = try await DeskStore.transition(engagement.id, action, reason: reason, today: today, actor: actor,
                                                           recordedAt: recordedAt, on: sql)
                return EngagementBody(engagement: moved, overdue: false)
            }
        }
    }

    func adjust(_ input: Operations.Adjust.Input) async throws -> Operations.Adjust.Output {
        try await respond(Operations.Adjust.Output.default) {
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let request = AdjustmentRequest(
                customer: Customer.ID(body.customer), lot: body.lot.map(Lot.ID.init), program: body.program.map(Program.ID.init),
                credits: body.credits, reason: body.reason, expiresOn: try Self.date(body.expiresOn, field: "expiresOn"))
            try authorize(.readCustomer(request.customer))
            // Who may adjust is R17, decided by the core (`not-permitted`, 403), not checked here too.
            let today = today()
            return try await write("adjust", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Lot.self, problem: Operations.Adjust.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, recordedAt, actor in
                try await DeskStore.adjust(request, today: today, actor: actor, recordedAt: recordedAt, on: sql).lot
            }
        }
    }

    func runExpiry(_ input: Operations.RunExpiry.Input) async throws -> Operations.RunExpiry.Output {
        try await respond(Operations.RunExpiry.Output.default) {
            try authorize(.operate)
            let today = today()
            struct Run: Encodable { let asOf: CalendarDate; let lotsExpired: Int; let creditsExpired: Int }
            return try await write("runExpiry \(today)", key: input.headers.idempotencyKey, request: today.description,
                                   as: Components.Schemas.ExpiryRun.self, problem: Operations.RunExpiry.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, recordedAt, actor in
                let entries = try await DeskStore.expire(asOf: today, customer: nil, actor: actor, recordedAt: recordedAt, on: sql)
                return Run(asOf: today, lotsExpired: entries.count, creditsExpired: -entries.reduce(0) { $0 + $1.creditsAvailableDelta })
            }
        }
    }

    /// Not one transaction (each statement is its own), so it is not an idempotent write: running
    /// it again issues nothing twice anyway, which is what a retry needs.
    func issueStatements(_ input: Operations.IssueStatements.Input) async throws -> Operations.IssueStatements.Output {
        try await respond(Operations.IssueStatements.Output.default) {
            let principal = try authorize(.operate)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            guard let quarter = Quarter(body.quarter, fiscalYearStartMonth: try await store.fiscalYearStartMonth()) else {
                throw Rejection(.invalidInput, "quarter '\(body.quarter.prefix(20))' is not of the form 2026Q3")
            }
            let run = try await store.issueStatements(quarter: quarter, today: today(), actor: principal.actor)
            return .created(.init(body: .json(try Wire.convert(run))))
        }
    }

    func listExpiring(_ input: Operations.ListExpiring.Input) async throws -> Operations.ListExpiring.Output {
        try await respond(Operations.ListExpiring.Output.default) {
            let principal = try principal()
            let customer = try Self.code(input.query.customer, field: "customer").map(Customer.ID.init)
            if let customer { try authorize(.readCustomer(customer)) }
            let lots = try await store.expiring(within: input.query.within ?? 90, customer: customer, today: today())
            return .ok(.init(body: .json(try Wire.convert(lots.filter { principal.sees($0.customer) }))))
        }
    }

    func listLedger(_ input: Operations.ListLedger.Input) async throws -> Operations.ListLedger.Output {
        try await respond(Operations.ListLedger.Output.default) {
            let customer = try Self.code(input.query.customer, field: "customer").map(Customer.ID.init)
            try authorize(customer.map { .readCustomer($0) } ?? .readDesk)
            let limit = try Self.pageSize(input.query.limit)
            let entries = try await store.ledger(
                customer: customer, from: try Self.date(input.query.from, field: "from"), to: try Self.date(input.query.to, field: "to"),
                afterSeq: try Self.cursor(input.query.after), limit: limit)
            struct Page: Encodable { let entries: [LedgerEntryBody]; let nextAfter: Int? }
            let page = Page(entries: entries.map(LedgerEntryBody.init), nextAfter: entries.count == limit ? entries.last?.seq : nil)
            return .ok(.init(body: .json(try Wire.convert(page))))
        }
    }

    func verifyLedger(_ input: Operations.VerifyLedger.Input) async throws -> Operations.VerifyLedger.Output {
        try await respond(Operations.VerifyLedger.Output.default) {
            try authorize(.readDesk)
            let report = try await store.verify()
            struct Body: Encodable { let clean: Bool; let entriesChecked: Int; let lotsChecked: Int; let headHash: String; let failure: String? }
            let body = Body(clean: report.isClean, entriesChecked: report.entriesChecked, lotsChecked: report.lotsChecked,
                            headHash: report.headHash, failure: report.failure)
            return .ok(.init(body: .json(try Wire.convert(body))))
        }
    }
}

extension Components.Schemas.Balance {
    /// Field by field: the most frequent read skips the JSON round trip of `Wire.convert`.
    init(_ balance: ProgramBalance) {
        self.init(
            program: balance.program.rawValue, creditsAvailable: balance.creditsAvailable, creditsHeld: balance.creditsHeld,
            creditsExpiringWithin30Days: balance.creditsExpiringWithin30Days,
            creditsExpiringWithin60Days: balance.creditsExpiringWithin60Days,
            creditsExpiringWithin90Days: balance.creditsExpiringWithin90Days, nextExpiryOn: balance.nextExpiryOn?.description)
    }
}
