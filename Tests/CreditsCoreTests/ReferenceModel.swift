import CreditsCore

/// A deliberately naive second implementation of the rules, written without looking at the
/// core's code paths: credits are individual tokens, expiry is computed by hand, and every
/// decision re-scans everything. The model test drives it and the core with the same random
/// operations and compares them after each step (TigerBeetle's auditor, in miniature).
struct ReferenceModel {
    struct ModelLot: Equatable {
        var program: String
        var purchasedOn: CalendarDate
        var expiresOn: CalendarDate
        var granted: Int
        var available: Int
        var held: Int
    }

    struct ModelEngagement {
        var program: String
        var status: String
        var draws: [(lot: Int, credits: Int)]
    }

    var today: CalendarDate
    var lots: [Int: ModelLot] = [:]
    var engagements: [Int: ModelEngagement] = [:]
    var purchaseOrders: Set<String> = []

    static func minimumCallOff(_ program: String) -> Int { program == "FSC" ? 10 : 5 }

    /// One year later, same day, but 29 February becomes 28 February.
    static func oneYearAfter(_ date: CalendarDate) -> CalendarDate {
        let day = (date.month == 2 && date.day == 29) ? 28 : date.day
        return CalendarDate(year: date.year + 1, month: date.month, day: day)!
    }

    mutating func order(program: String, blocks: [(Int, Int)], po: String, lotID: Int) -> String? {
        if purchaseOrders.contains(po) { return "duplicate-po" }
        for (size, _) in blocks where ![1, 10, 25, 50].contains(size) { return "invalid-block-size" }
        var total = 0
        for (size, count) in blocks { total += size * count }
        if total < 10 { return "minimum-order" }
        purchaseOrders.insert(po)
        lots[lotID] = ModelLot(program: program, purchasedOn: today, expiresOn: Self.oneYearAfter(today),
                               granted: total, available: total, held: 0)
        return nil
    }

    mutating func callOff(program: String, credits: Int, plannedEnd: CalendarDate, engagementID: Int) -> String? {
        if credits < Self.minimumCallOff(program) { return "minimum-call-off" }
        if plannedEnd < today { return "planned-end-in-past" }
        // Every usable credit as a token tagged with its lot's sort key.
        var tokens: [(expires: CalendarDate, purchased: CalendarDate, lot: Int)] = []
        for (id, lot) in lots where lot.program == program && lot.purchasedOn <= today && today < lot.expiresOn && plannedEnd <= lot.expiresOn {
            for _ in 0..<lot.available { tokens.append((lot.expiresOn, lot.purchasedOn, id)) }
        }
        if tokens.count < credits { return "insufficient-credits" }
        tokens.sort { ($0.expires, $0.purchased, $0.lot) < ($1.expires, $1.purchased, $1.lot) }
        var taken: [Int: Int] = [:]
        for token in tokens.prefix(credits) { taken[token.lot, default: 0] += 1 }
        for (id, count) in taken {
            lots[id]!.available -= count
            lots[id]!.held += count
        }
        engagements[engagementID] = ModelEngagement(
            program: program, status: "scheduled", draws: taken.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        return nil
    }

    mutating func act(_ action: String, engagementID: Int) -> String? {
        guard var engagement = engagements[engagementID] else { return "unknown-engagement" }
        switch (action, engagement.status) {
        case ("start", "scheduled"): engagement.status = "in-delivery"
        case ("deliver", "in-delivery"):
            engagement.status = "delivered"
            for draw in engagement.draws { lots[draw.lot]!.held -= draw.credits }
        case ("cancel", "scheduled"), ("cancel", "in-delivery"):
            engagement.status = "cancelled"
            for draw in engagement.draws {
                lots[draw.lot]!.held -= draw.credits
                if lots[draw.lot]!.expiresOn > today { lots[draw.lot]!.available += draw.credits }
            }
        default: return "invalid-transition"
        }
        engagements[engagementID] = engagement
        return nil
    }

    mutating func expire() {
        for id in lots.keys where lots[id]!.expiresOn <= today { lots[id]!.available = 0 }
    }

    mutating func adjust(lot id: Int, credits: Int, newLotID: Int) -> String? {
        guard let lot = lots[id] else { return "unknown-lot" }
        if credits < 0 {
            if -credits > lot.available { return "adjustment-exceeds-balance" }
            lots[id]!.available += credits
            return nil
        }
        if lot.expiresOn <= today { return "invalid-expiry" }
        lots[newLotID] = ModelLot(program: lot.program, purchasedOn: today, expiresOn: lot.expiresOn,
                                  granted: credits, available: credits, held: 0)
        return nil
    }
}
