import ArgumentParser
import CreditsCore
import CreditsStore
import Foundation

struct OrderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "order", abstract: "Credit orders.", subcommands: [Place.self])

    struct Place: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Place a credit order: creates a lot and its invoice.",
            discussion: "Example: credits order place --customer acme --program PSC --entity JN-DE --po PO-1 --block 10x2 --block 1x5")
        @OptionGroup var options: DeskOptions
        @Option(help: "Customer code.") var customer: String
        @Option(help: "PSC or FSC.") var program: String = "PSC"
        @Option(help: "Selling entity (must be the customer's).") var entity: String
        @Option(name: .customLong("po"), help: "The customer's purchase order number.") var purchaseOrder: String?
        @Option(help: ArgumentHelp("Block line SIZExCOUNT, e.g. 10x2 (repeatable).", valueName: "line")) var block: [String] = []
        @Option(parsing: .unconditional, help: "A price per credit in minor units (refused unless it is the list price).") var price: String?
        @Option(parsing: .unconditional, help: "A discount in percent (always refused: credits are not discountable).") var discount: String?

        func run() async throws {
            try await guarded {
                let today = try options.today()
                let request = OrderRequest(
                    customer: Customer.ID(customer), program: Program.ID(program), entity: Entity.ID(entity),
                    purchaseOrder: purchaseOrder, blocks: try block.map { try BlockLine.parse($0).get() },
                    requestedPriceMinor: try price.map { try Parse.integer($0, field: "--price", range: 0...Limits.priceMinorMax) },
                    discountPercent: try discount.map { try Parse.integer($0, field: "--discount", range: -100...100) })
                let order = try await options.withStore { try await $0.placeOrder(request, today: today, actor: .operator_) }
                Output.emit(order, options: options) {
                    "order \(order.id): \(order.credits) \(order.program) credits for \(order.customer) (PO \(order.purchaseOrder)), lot \(order.lot), invoice \(order.invoice.number) for \(order.invoice.amountMinor) minor units of \(order.invoice.currency), expires \(order.orderedOn.adding(months: 12))"
                }
            }
        }
    }
}

struct CallOff: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call-off",
        abstract: "Spend credits on a fixed-scope engagement (a catalog offering or a custom one).",
        discussion: """
            Example: credits call-off --customer acme --program PSC --po PO-7 --sow SOW-7 --sow-signed 2026-11-20 \
            --offering net-assess --planned-end 2027-02-28
            """)
    @OptionGroup var options: DeskOptions
    @Option(help: "Customer code.") var customer: String
    @Option(help: "PSC or FSC.") var program: String = "PSC"
    @Option(name: .customLong("po"), help: "The customer's purchase order for this engagement.") var purchaseOrder: String?
    @Option(name: .customLong("sow"), help: "Signed statement of work reference.") var sowReference: String?
    @Option(name: .customLong("sow-signed"), help: "Date the statement of work was signed.") var sowSigned: String?
    @Option(help: "Catalog offering code.") var offering: String?
    @Option(help: "Custom engagement: title.") var title: String?
    @Option(help: "Custom engagement: kind.") var kind: String = "assessment"
    @Option(help: "Custom engagement: fixed-scope or duration-based.") var pricing: String = "fixed-scope"
    @Option(help: "Custom engagement: a deliverable (repeatable).") var deliverable: [String] = []
    @Option(parsing: .unconditional, help: "Custom engagement: credits.") var credits: String?
    @Option(name: .customLong("planned-end"), help: "Date delivery is planned to finish.") var plannedEnd: String

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let request = CallOffRequest(
                customer: Customer.ID(customer), program: Program.ID(program), purchaseOrder: purchaseOrder,
                sowReference: sowReference, sowSignedOn: try sowSigned.map { try Parse.date($0, field: "--sow-signed") },
                offering: offering.map(Offering.ID.init), custom: try custom(),
                plannedEndOn: try Parse.date(plannedEnd, field: "--planned-end"))
            let engagement = try await options.withStore { try await $0.callOff(request, today: today, actor: .operator_) }
            Output.emit(engagement, options: options) {
                "engagement \(engagement.id): \(engagement.credits) \(engagement.program) credits held for '\(engagement.title)', drawn from " +
                    engagement.draws.map { "lot \($0.lot) (\($0.credits))" }.joined(separator: ", ")
            }
        }
    }

    func custom() throws -> CustomEngagement? {
        guard offering == nil || title != nil || credits != nil else { return nil }
        guard let credits else {
            if offering != nil { return nil }
            throw Rejection(.invalidInput, "a custom engagement needs --credits (or name an --offering)")
        }
        return CustomEngagement(
            title: title ?? "", kind: try Parse.enumeration(kind, field: "--kind"),
            pricing: try Parse.enumeration(pricing, field: "--pricing"), deliverables: deliverable,
            credits: try Parse.credits(credits))
    }
}

struct EngagementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engagement", abstract: "Move an engagement along: start, deliver or cancel it.",
        subcommands: [Start.self, Deliver.self, Cancel.self, Show.self])

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "scheduled → in-delivery.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Engagement id.") var engagement: String
        func run() async throws { try await step(.start, engagement, reason: nil, options: options) }
    }

    struct Deliver: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "in-delivery → delivered: the held credits are spent.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Engagement id.") var engagement: String
        func run() async throws { try await step(.deliver, engagement, reason: nil, options: options) }
    }

    struct Cancel: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Cancel before delivery: the held credits go back to their lots (expired lots expire them at once).")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Engagement id.") var engagement: String
        @Option(help: "Why it is cancelled.") var reason: String?
        func run() async throws { try await step(.cancel, engagement, reason: reason, options: options) }
    }

    static func step(_ action: DeskStore.EngagementAction, _ engagement: String, reason: String?, options: DeskOptions) async throws {
        try await guarded {
            let today = try options.today()
            let id = Engagement.ID(try Parse.id(engagement, field: "engagement"))
            let result = try await options.withStore {
                try await $0.transition(id, action, reason: reason, today: today, actor: .operator_)
            }
            Output.emit(result, options: options) { "engagement \(result.id) is \(result.status.rawValue)" }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show an engagement and its draws.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Engagement id.") var engagement: String

        func run() async throws {
            try await guarded {
                let id = Engagement.ID(try Parse.id(engagement, field: "engagement"))
                let result = try await options.withStore { try await $0.engagement(id) }
                Output.emit(result, options: options) { Describe.engagement(result) }
            }
        }
    }
}

struct Expire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Expire the unused credits of every lot whose term has ended (safe to run again).")
    @OptionGroup var options: DeskOptions

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let entries = try await options.withStore { try await $0.expire(asOf: today, actor: .operator_) }
            let total = entries.reduce(0) { $0 - $1.creditsAvailableDelta }
            Output.emit(entries, options: options) {
                "expired \(total) credits in \(entries.count) lots as of \(today)"
            }
        }
    }
}

struct Balance: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A customer's balances per program.")
    @OptionGroup var options: DeskOptions
    @Argument(help: "Customer code.") var customer: String

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let balances = try await options.withStore { try await $0.balances(of: Customer.ID(customer), today: today) }
            Output.emit(balances, options: options) {
                balances.map(Describe.balance).joined(separator: "\n")
            }
        }
    }
}

struct Expiring: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Credits not planned for any engagement that expire soon.")
    @OptionGroup var options: DeskOptions
    @Option(parsing: .unconditional, help: "Look-ahead in days.") var within: String = "90"
    @Option(help: "Only this customer.") var customer: String?

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let days = try Parse.integer(within, field: "--within", range: 0...Limits.expiringWithinDaysMax)
            let lots = try await options.withStore {
                try await $0.expiring(within: days, customer: customer.map(Customer.ID.init), today: today)
            }
            Output.emit(lots, options: options) {
                if lots.isEmpty { return "no credits expire within \(days) days of \(today)" }
                return lots.map {
                    "\($0.expiresOn) (\($0.daysLeft) days)  \($0.customer)  \($0.program)  lot \($0.lot)  \($0.creditsAvailable) credits"
                }.joined(separator: "\n")
            }
        }
    }
}

struct StatementCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "statement", abstract: "Quarterly statements: show one, or issue a quarter's for every customer.",
        subcommands: [Show.self, Issue.self], defaultSubcommand: Show.self)

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "A customer's quarterly statement (issued and stored the first time for a past quarter).")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Customer code.") var customer: String
        @Option(help: "Quarter, e.g. 2026Q3.") var quarter: String
        @Option(help: "json, csv or text.") var format: String = "text"

        func run() async throws {
            try await guarded {
                let today = try options.today()
                let format = options.json ? "json" : format
                guard ["json", "csv", "text"].contains(format) else {
                    throw Rejection(.invalidInput, "--format is json, csv or text")
                }
                let document = try await options.withStore { store in
                    let quarter = try Parse.quarter(quarter, fiscalYearStartMonth: try await store.fiscalYearStartMonth())
                    return try await store.statement(of: Customer.ID(customer), quarter: quarter, today: today)
                }
                switch format {
                case "json": print(document.json, terminator: "")
                case "csv": print(StatementFormat.csv(document.statement), terminator: "")
                default: print(StatementFormat.text(document.statement), terminator: "")
                }
            }
        }
    }

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Issue every customer's statement for a past quarter (safe to run again).")
        @OptionGroup var options: DeskOptions
        @Option(help: "Quarter, e.g. 2026Q3.") var quarter: String

        func run() async throws {
            try await guarded {
                let today = try options.today()
                let run = try await options.withStore { store in
                    let quarter = try Parse.quarter(quarter, fiscalYearStartMonth: try await store.fiscalYearStartMonth())
                    return try await store.issueStatements(quarter: quarter, today: today, actor: .operator_) { done, total in
                        // Progress on stderr, so stdout stays the result a script reads.
                        if done == total || done % 100 == 0 {
                            FileHandle.standardError.write(Data("  \(done)/\(total) customers\n".utf8))
                        }
                    }
                }
                Output.emit(run, options: options) {
                    "\(run.quarter): \(run.issued) statements issued, \(run.alreadyIssued) already issued"
                }
            }
        }
    }
}

struct Adjust: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Correct a balance with a signed adjustment entry (vendor operations only).",
        discussion: "Negative takes from --lot; positive grants a new lot expiring with --lot or on --expires.")
    @OptionGroup var options: DeskOptions
    @Option(help: "Customer code.") var customer: String
    @Option(help: "The lot corrected.") var lot: String?
    @Option(help: "Program of a grant that names no lot.") var program: String?
    @Option(parsing: .unconditional, help: "Signed whole credits, e.g. -3 or 5.") var credits: String
    @Option(help: "Why (required).") var reason: String?
    @Option(help: "Expiry of a grant (default: the corrected lot's).") var expires: String?

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let request = AdjustmentRequest(
                customer: Customer.ID(customer), lot: try lot.map { Lot.ID(try Parse.id($0, field: "--lot")) },
                program: program.map(Program.ID.init), credits: try Credits.parseSigned(credits, field: "--credits").get(),
                reason: reason, expiresOn: try expires.map { try Parse.date($0, field: "--expires") })
            let decision = try await options.withStore { try await $0.adjust(request, today: today, actor: .operator_) }
            Output.emit(decision.lot, options: options) {
                "adjusted lot \(decision.lot.id) by \(request.credits): \(decision.lot.creditsAvailable) available, expires \(decision.lot.expiresOn)"
            }
        }
    }
}

struct Ledger: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List ledger entries in order.")
    @OptionGroup var options: DeskOptions
    @Option(help: "Only this customer.") var customer: String?
    @Option(help: "Start after this entry number.") var after: String = "0"
    @Option(help: "At most this many entries (1–10000).") var limit: String = "100"

    func run() async throws {
        try await guarded {
            let after = try Parse.integer(after, field: "--after", range: 0...Int(Int32.max))
            let limit = try Parse.integer(limit, field: "--limit", range: 1...10_000)
            let entries = try await options.withStore {
                try await $0.ledger(customer: customer.map(Customer.ID.init), afterSeq: after, limit: limit)
            }
            Output.emit(entries, options: options) {
                entries.map {
                    "\($0.seq)  \($0.entry.effectiveOn)  \($0.entry.kind.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \($0.entry.customer) \($0.entry.program) lot \($0.entry.lot)  avail \($0.entry.creditsAvailableDelta) held \($0.entry.creditsHeldDelta)  \($0.entry.document)  by \($0.entry.actor): \($0.entry.reason)"
                }.joined(separator: "\n")
            }
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a realistic demo desk: 4 entities, 20 customers, two years of activity up to today.")
    @OptionGroup var options: DeskOptions

    func run() async throws {
        try await guarded {
            let today = try options.today()
            let summary = try await options.withStore(creating: true) { store in
                var demo = DemoData(store: store, today: today)
                return try await demo.load()
            }
            Output.emit(summary, options: options) {
                "demo desk loaded into \(DeskDatabase.redacted(options.databasePath)) up to \(today): \(summary.customers) customers, \(summary.orders) orders, \(summary.callOffs) call-offs, \(summary.deliveries) deliveries, \(summary.cancellations) cancellations, \(summary.expiredCredits) credits expired, \(summary.statementsIssued) statements issued (\(summary.refusedByRules) requests refused by the rules along the way)"
            }
        }
    }
}
