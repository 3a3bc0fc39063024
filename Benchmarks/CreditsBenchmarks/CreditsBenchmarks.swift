import Benchmark
import CreditsCore
import CreditsStore
import Foundation

/// `swift package benchmark` (or `--filter allocation`): the core's hot paths and the store's
/// call-off transaction, with instructions and allocations beside time, so a change that adds
/// work shows even on a noisy machine. Figures and how to read them: docs/PERFORMANCE.md.
let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .throughput],
        warmupIterations: 3, maxDuration: .seconds(2), maxIterations: 100_000)

    // R10: first-in, first-out over a customer's lots; the call-off spans them all.
    for lotCount in [1, 10, 100] {
        let lots = Sample.lots(count: lotCount, creditsEach: 10)
        Benchmark("allocation FIFO over \(lotCount) lots") { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(CallOffs.allocate(lotCount * 10, from: lots, program: .professional, today: Sample.today,
                                            plannedEndOn: Sample.today.adding(days: 30)))
            }
        }
    }

    // R14: one customer's quarter from its whole history.
    for entryCount in [100, 10_000, 100_000] {
        let (lots, entries) = Sample.history(entries: entryCount)
        Benchmark("statement from \(entryCount) entries",
                  configuration: .init(maxDuration: .seconds(3), maxIterations: entryCount >= 100_000 ? 20 : 10_000)) { benchmark in
            for _ in benchmark.scaledIterations {
                blackHole(Statements.compute(customer: Sample.customer, programs: ["PSC"], quarter: Sample.quarter, lots: lots,
                                             entries: entries, engagements: [], today: Sample.today))
            }
        }
    }

    // The whole call-off transaction on a SQLite file: load, decide, append, fsync.
    Benchmark("store call-off on SQLite (one commit each)",
              configuration: .init(metrics: [.wallClock, .cpuTotal, .instructions, .mallocCountTotal, .throughput, .syscalls],
                                   maxDuration: .seconds(3), maxIterations: 5_000)) { benchmark in
        let desk = try await Sample.desk()
        let request = CallOffRequest(
            customer: "bench", program: "PSC", purchaseOrder: "PO-B", sowReference: "SOW-B", sowSignedOn: Sample.today,
            custom: CustomEngagement(title: "Bench", kind: .design, pricing: .fixedScope, deliverables: ["D"], credits: 5),
            plannedEndOn: Sample.today.adding(days: 30))
        let actor = Actor(name: "bench", role: .operations)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(try await desk.store.callOff(request, today: Sample.today, actor: actor))
        }
        benchmark.stopMeasurement()
        await desk.scratch.discard()
    }
}

enum Sample {
    static let today = CalendarDate("2026-11-29")!
    static let quarter = Quarter(year: 2026, number: 3)!
    static let customer = Customer(id: "bench", name: "Bench", entity: "BE")

    static func lots(count: Int, creditsEach: Int) -> [Lot] {
        (0..<count).map { index in
            let purchased = today.adding(days: -300 + index)
            return Lot(id: Lot.ID(index + 1), customer: "bench", program: "PSC", source: .order, purchasedOn: purchased,
                       expiresOn: purchased.adding(months: 12), creditsGranted: creditsEach,
                       creditsAvailable: creditsEach, creditsHeld: 0)
        }
    }

    /// A purchase of 500 credits every 100 entries, then call-offs of 5 spread over two years.
    static func history(entries count: Int) -> ([Lot], [LedgerEntry]) {
        var lots: [Lot] = []
        var entries: [LedgerEntry] = []
        let start = today.adding(days: -700)
        for index in 0..<count {
            let day = start.adding(days: index * 700 / count)
            if index % 100 == 0 {
                let lot = Lot(id: Lot.ID(lots.count + 1), customer: "bench", program: "PSC", source: .order, purchasedOn: day,
                              expiresOn: day.adding(months: 12), creditsGranted: 500, creditsAvailable: 0, creditsHeld: 0)
                lots.append(lot)
                entries.append(LedgerEntry(kind: .purchase, lot: lot.id, customer: "bench", program: "PSC", creditsAvailableDelta: 500,
                                           creditsHeldDelta: 0, effectiveOn: day, actor: "bench", reason: "", document: "order/\(lot.id)"))
            } else {
                entries.append(LedgerEntry(kind: .callOff, lot: lots.last!.id, customer: "bench", program: "PSC", creditsAvailableDelta: -5,
                                           creditsHeldDelta: 5, effectiveOn: day, actor: "bench", reason: "", document: "engagement/\(index)"))
            }
        }
        return (lots, entries)
    }

    /// A scratch SQLite desk with one customer holding 100,000 PSC credits.
    static func desk() async throws -> (store: DeskStore, scratch: ScratchDesk) {
        let scratch = try await ScratchDesk.make(postgresURL: nil)
        let store = DeskStore(database: scratch.database)
        let since = CalendarDate("2020-01-01")!
        try await store.addEntity(Entity(id: "BE", name: "Bench entity", currency: "EUR",
                                         prices: [ListPrice(program: "PSC", priceMinor: 100_000, effectiveOn: since)]))
        try await store.addCustomer(customer)
        _ = try await store.placeOrder(OrderRequest(customer: "bench", program: "PSC", entity: "BE", purchaseOrder: "PO-LOT",
                                                    blocks: [BlockLine(size: 50, count: 2_000)]),
                                       today: today.adding(days: -10), actor: Actor(name: "bench", role: .operations))
        return (store, scratch)
    }
}
