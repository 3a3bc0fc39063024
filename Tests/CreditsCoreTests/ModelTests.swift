import CreditsCore
import Testing

/// The core and the reference model, driven by the same random operations.
struct CoreUnderTest {
    var today: CalendarDate
    var lots: [Lot.ID: Lot] = [:]
    var engagements: [Engagement.ID: Engagement] = [:]
    var purchaseOrders: Set<String> = []
    let actor = Actor(name: "model", role: .operations)
    static let entity = Entity(id: "E", name: "E", currency: "EUR", prices: [
        ListPrice(program: "PSC", priceMinor: 100, effectiveOn: CalendarDate("2000-01-01")!),
        ListPrice(program: "FSC", priceMinor: 90, effectiveOn: CalendarDate("2000-01-01")!),
    ])
    static let customer = Customer(id: "c", name: "C", entity: "E")

    static func program(_ id: String) -> Program { id == "FSC" ? .flexible : .professional }

    mutating func apply(_ lots: [Lot]) { for lot in lots { self.lots[lot.id] = lot } }

    mutating func order(program: String, blocks: [(Int, Int)], po: String, orderID: Int, lotID: Int) -> String? {
        let request = OrderRequest(customer: "c", program: Program.ID(program), entity: "E", purchaseOrder: po,
                                   blocks: blocks.map { BlockLine(size: $0.0, count: $0.1) })
        let context = OrderContext(customer: Self.customer, entity: Self.entity, program: Self.program(program),
                                   purchaseOrdersUsed: purchaseOrders, orderID: Order.ID(orderID), lotID: Lot.ID(lotID))
        switch Orders.place(request, in: context, today: today, actor: actor) {
        case .success(let decision):
            purchaseOrders.insert(decision.order.purchaseOrder)
            apply([decision.lot])
            return nil
        case .failure(let rejection): return rejection.code.rawValue
        }
    }

    mutating func callOff(program: String, credits: Int, plannedEnd: CalendarDate, engagementID: Int) -> String? {
        let request = CallOffRequest(
            customer: "c", program: Program.ID(program), purchaseOrder: "PO", sowReference: "SOW", sowSignedOn: today,
            custom: CustomEngagement(title: "T", kind: .design, pricing: .fixedScope, deliverables: ["D"], credits: credits),
            plannedEndOn: plannedEnd)
        let context = CallOffContext(customer: Self.customer, program: Self.program(program), offering: nil,
                                     lots: lots.values.filter { $0.program.rawValue == program },
                                     engagementID: Engagement.ID(engagementID))
        switch CallOffs.callOff(request, in: context, today: today, actor: actor) {
        case .success(let decision):
            apply(decision.lots)
            engagements[decision.engagement.id] = decision.engagement
            return nil
        case .failure(let rejection): return rejection.code.rawValue
        }
    }

    mutating func act(_ action: String, engagementID: Int) -> String? {
        guard let engagement = engagements[Engagement.ID(engagementID)] else { return "unknown-engagement" }
        let result: Result<EngagementTransition, Rejection> = switch action {
        case "start": Engagements.start(engagement, today: today)
        case "deliver": Engagements.deliver(engagement, lots: lots, today: today, actor: actor)
        default: Engagements.cancel(engagement, lots: lots, today: today, actor: actor, reason: nil)
        }
        switch result {
        case .success(let transition):
            apply(transition.lots)
            engagements[engagement.id] = transition.engagement
            return nil
        case .failure(let rejection): return rejection.code.rawValue
        }
    }

    mutating func expire() {
        for entry in Expiry.due(lots: Array(lots.values), asOf: today, actor: actor) {
            lots[entry.lot] = lots[entry.lot]!.applying(entry)
        }
    }

    mutating func adjust(lot id: Int, credits: Int, newLotID: Int) -> String? {
        guard let lot = lots[Lot.ID(id)] else { return "unknown-lot" }
        let request = AdjustmentRequest(customer: "c", lot: lot.id, credits: credits, reason: "model")
        switch Adjustments.adjust(request, customer: Self.customer, lot: lot, program: nil, newLotID: Lot.ID(newLotID),
                                  today: today, actor: actor) {
        case .success(let decision):
            apply([decision.lot])
            return nil
        case .failure(let rejection): return rejection.code.rawValue
        }
    }
}

@Suite("Model: the core against a naive reference (R3, R4, R7, R10, R12, R13, R16, R17)")
struct ModelTests {
    static let sequences = 2_000
    static let stepsPerSequence = 60

    @Test("random sequences agree with the reference model lot by lot after every step")
    func randomSequences() throws {
        var random = SeededGenerator(seed: 0xC0FFEE)
        var steps = 0
        var accepted = 0
        for sequence in 0..<Self.sequences {
            let start = CalendarDate(year: 2023, month: Int.random(in: 1...12, using: &random), day: Int.random(in: 1...28, using: &random))!
            var real = CoreUnderTest(today: start)
            var model = ReferenceModel(today: start)
            var nextID = 1
            for step in 0..<Self.stepsPerSequence {
                let (realOutcome, modelOutcome, label) = Self.step(&real, &model, nextID: &nextID, random: &random)
                steps += 1
                if realOutcome == nil { accepted += 1 }
                guard realOutcome == modelOutcome else {
                    Issue.record("sequence \(sequence) step \(step) \(label): core \(realOutcome ?? "ok"), model \(modelOutcome ?? "ok")")
                    return
                }
                guard let mismatch = Self.compare(real, model) else { continue }
                Issue.record("sequence \(sequence) step \(step) \(label): \(mismatch)")
                return
            }
        }
        // The generator must exercise the rules, not only their rejections.
        #expect(steps == Self.sequences * Self.stepsPerSequence)
        #expect(accepted > steps / 3)
    }

    static func step(
        _ real: inout CoreUnderTest, _ model: inout ReferenceModel, nextID: inout Int, random: inout SeededGenerator
    ) -> (String?, String?, String) {
        let program = Bool.random(using: &random) ? "PSC" : "FSC"
        nextID += 1
        switch Int.random(in: 0..<100, using: &random) {
        case 0..<18:
            let blocks = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                ([1, 5, 10, 25, 50].randomElement(using: &random)!, Int.random(in: 1...4, using: &random))
            }
            let po = "PO-\(Int.random(in: 0..<30, using: &random))"
            return (real.order(program: program, blocks: blocks, po: po, orderID: nextID, lotID: nextID),
                    model.order(program: program, blocks: blocks, po: po, lotID: nextID), "order \(blocks) \(po)")
        case 18..<50:
            let credits = Int.random(in: 1...45, using: &random)
            let plannedEnd = real.today.adding(days: Int.random(in: -5...400, using: &random))
            return (real.callOff(program: program, credits: credits, plannedEnd: plannedEnd, engagementID: nextID),
                    model.callOff(program: program, credits: credits, plannedEnd: plannedEnd, engagementID: nextID),
                    "call-off \(credits) \(program) by \(plannedEnd)")
        case 50..<75:
            let action = ["start", "deliver", "cancel"].randomElement(using: &random)!
            let target = Int.random(in: 1...max(1, nextID), using: &random)
            return (real.act(action, engagementID: target), model.act(action, engagementID: target), "\(action) \(target)")
        case 75..<82:
            real.expire()
            model.expire()
            return (nil, nil, "expire")
        case 82..<90:
            let target = Int.random(in: 1...max(1, nextID), using: &random)
            let credits = Int.random(in: 1...12, using: &random) * (Bool.random(using: &random) ? 1 : -1)
            return (real.adjust(lot: target, credits: credits, newLotID: nextID),
                    model.adjust(lot: target, credits: credits, newLotID: nextID), "adjust lot \(target) by \(credits)")
        default:
            let days = Int.random(in: 0...150, using: &random)
            real.today = real.today.adding(days: days)
            model.today = model.today.adding(days: days)
            return (nil, nil, "advance \(days) days")
        }
    }

    /// Lot by lot: the same balances, within R16's bounds.
    static func compare(_ real: CoreUnderTest, _ model: ReferenceModel) -> String? {
        guard real.lots.count == model.lots.count else { return "core has \(real.lots.count) lots, model \(model.lots.count)" }
        for (id, lot) in real.lots {
            guard let expected = model.lots[id.rawValue] else { return "lot \(id) missing from the model" }
            if lot.creditsAvailable != expected.available || lot.creditsHeld != expected.held || lot.expiresOn != expected.expiresOn {
                return "lot \(id): core \(lot.creditsAvailable)/\(lot.creditsHeld) expires \(lot.expiresOn), model \(expected.available)/\(expected.held) expires \(expected.expiresOn)"
            }
            if lot.invariantViolation != nil || lot.creditsAvailable + lot.creditsHeld > expected.granted {
                return "lot \(id) out of bounds"
            }
        }
        return nil
    }
}
