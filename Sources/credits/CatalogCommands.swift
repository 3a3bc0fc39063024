import ArgumentParser
import CreditsCore
import CreditsStore
import Foundation

struct ProgramCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "program", abstract: "The credit programs.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the programs and their parameters.")
        @OptionGroup var options: DeskOptions

        func run() async throws {
            try await guarded {
                let programs = try await options.withStore { try await $0.programs() }
                Output.emit(programs, options: options) {
                    programs.map {
                        "\($0.id)  \($0.name): blocks \($0.blockSizes.map(String.init).joined(separator: "/")), order ≥ \($0.orderCreditsMin), call-off ≥ \($0.callOffCreditsMin), term \($0.termMonths) months, kinds \($0.engagementKinds.map(\.rawValue).joined(separator: ", "))"
                    }.joined(separator: "\n")
                }
            }
        }
    }
}

struct EntityCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "entity", abstract: "The vendor's local selling entities and their list prices.",
        subcommands: [Add.self, Price.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a selling entity.")
        @OptionGroup var options: DeskOptions
        @Option(help: "Short code, e.g. JN-DE.") var code: String
        @Option(help: "Name.") var name: String
        @Option(help: "ISO 4217 currency, e.g. EUR.") var currency: String
        @Option(help: "Digits after the decimal point in the currency.") var exponent: String = "2"
        @Option(help: ArgumentHelp("List price: PROGRAM=MINOR@DATE, e.g. PSC=150000@2025-01-01 (repeatable).", valueName: "price"))
        var price: [String] = []

        func run() async throws {
            try await guarded {
                var entity = try CatalogRules.entity(
                    id: code, name: name, currency: currency,
                    currencyExponent: Parse.integer(exponent, field: "--exponent", range: 0...4)).get()
                entity.prices = try price.map(PriceSpec.parse)
                try await options.withStore { try await $0.addEntity(entity) }
                Output.emit(entity, options: options) { "entity \(entity.id) added (\(entity.currency))" }
            }
        }
    }

    struct Price: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an entity's list price from a date on.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Entity code.") var entity: String
        @Argument(help: "PROGRAM=MINOR@DATE, e.g. PSC=150000@2026-01-01.") var price: String

        func run() async throws {
            try await guarded {
                let listPrice = try PriceSpec.parse(price)
                try await options.withStore { try await $0.setListPrice(listPrice, entity: Entity.ID(entity)) }
                Output.emit(listPrice, options: options) {
                    "\(entity): \(listPrice.program) at \(listPrice.priceMinor) minor units from \(listPrice.effectiveOn)"
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List entities with their prices.")
        @OptionGroup var options: DeskOptions

        func run() async throws {
            try await guarded {
                let entities = try await options.withStore { try await $0.entities() }
                Output.emit(entities, options: options) {
                    entities.map { entity in
                        let prices = entity.prices.map {
                            "\($0.program) \(Output.money($0.priceMinor, currency: entity.currency, exponent: entity.currencyExponent)) from \($0.effectiveOn)"
                        }
                        return "\(entity.id)  \(entity.name) [\(entity.currency)]  " + prices.joined(separator: "; ")
                    }.joined(separator: "\n")
                }
            }
        }
    }
}

enum PriceSpec {
    static func parse(_ text: String) throws -> ListPrice {
        let programAndRest = text.split(separator: "=", maxSplits: 1).map(String.init)
        let amountAndDate = programAndRest.count == 2 ? programAndRest[1].split(separator: "@").map(String.init) : []
        guard programAndRest.count == 2, amountAndDate.count == 2, let minor = Int(amountAndDate[0]) else {
            throw Rejection(.invalidInput, "price '\(text.prefix(60))' is not PROGRAM=MINOR@DATE, e.g. PSC=150000@2025-01-01")
        }
        return try CatalogRules.listPrice(
            program: Program.ID(programAndRest[0]), priceMinor: minor,
            effectiveOn: Parse.date(amountAndDate[1], field: "price date")).get()
    }
}

struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer", abstract: "Customers.", subcommands: [Add.self, List.self, Show.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a customer served by one entity.")
        @OptionGroup var options: DeskOptions
        @Option(help: "Short code, e.g. acme.") var code: String
        @Option(help: "Name.") var name: String
        @Option(help: "The entity that serves it.") var entity: String

        func run() async throws {
            try await guarded {
                let customer = try CatalogRules.customer(id: code, name: name, entity: Entity.ID(entity)).get()
                try await options.withStore { try await $0.addCustomer(customer) }
                Output.emit(customer, options: options) { "customer \(customer.id) added, served by \(customer.entity)" }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List customers with their available credits.")
        @OptionGroup var options: DeskOptions

        struct Line: Encodable {
            let customer: Customer
            let balances: [ProgramBalance]
        }

        func run() async throws {
            try await guarded {
                let today = try options.today()
                let lines = try await options.withStore { store in
                    var lines: [Line] = []
                    for customer in try await store.customers() {
                        lines.append(Line(customer: customer, balances: try await store.balances(of: customer.id, today: today)))
                    }
                    return lines
                }
                Output.emit(lines, options: options) {
                    lines.map { line in
                        let figures = line.balances.map {
                            "\($0.program) \($0.creditsAvailable) available, \($0.creditsExpiringWithin90Days) expiring ≤90d"
                        }
                        return "\(line.customer.id.rawValue.padding(toLength: 14, withPad: " ", startingAt: 0)) \(line.customer.name) [\(line.customer.entity)]  " + figures.joined(separator: "; ")
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A customer's balances, lots, orders and engagements.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "Customer code.") var customer: String

        func run() async throws {
            try await guarded {
                let today = try options.today()
                let summary = try await options.withStore { try await $0.summary(of: Customer.ID(customer), today: today) }
                Output.emit(summary, options: options) { Describe.summary(summary, today: today) }
            }
        }
    }
}

struct OfferingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "offering", abstract: "The service catalog.", subcommands: [Add.self, List.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a catalog offering with a fixed credit price.")
        @OptionGroup var options: DeskOptions
        @Option(help: "Short code.") var code: String
        @Option(help: "Name.") var name: String
        @Option(help: "assessment, design, deployment, migration or other.") var kind: String
        @Option(help: "fixed-scope or duration-based.") var pricing: String = "fixed-scope"
        @Option(parsing: .unconditional, help: "Credits it costs.") var credits: String
        @Option(help: "A deliverable (repeatable).") var deliverable: [String] = []
        @Option(help: "An entity that can deliver it (repeatable).") var entity: [String] = []

        func run() async throws {
            try await guarded {
                let offering = try CatalogRules.offering(
                    id: code, name: name, kind: Parse.enumeration(kind, field: "--kind"),
                    pricing: Parse.enumeration(pricing, field: "--pricing"), credits: Parse.credits(credits),
                    deliverables: deliverable, entities: entity.map(Entity.ID.init)).get()
                try await options.withStore { try await $0.addOffering(offering) }
                Output.emit(offering, options: options) { "offering \(offering.id) added: \(offering.credits) credits" }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the catalog.")
        @OptionGroup var options: DeskOptions

        func run() async throws {
            try await guarded {
                let offerings = try await options.withStore { try await $0.offerings() }
                Output.emit(offerings, options: options) {
                    offerings.map {
                        "\($0.id.rawValue.padding(toLength: 16, withPad: " ", startingAt: 0)) \($0.credits) credits  \($0.kind.rawValue) \($0.pricing.rawValue)  \($0.name)  [\($0.entities.map(\.rawValue).joined(separator: ","))]"
                    }.joined(separator: "\n")
                }
            }
        }
    }
}
