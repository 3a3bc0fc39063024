import CreditsCore
import Foundation
import SQLKit

/// Programs, entities, customers and the service catalog: set up by the vendor's admin.
extension DeskStore {
    public func addEntity(_ entity: Entity) async throws {
        try await database.write { sql in try await Self.addEntity(entity, on: sql) }
    }

    public static func addEntity(_ entity: Entity, on sql: any SQLDatabase) async throws {
        if let rejection = CatalogRules.checkPrices(entity.prices) { throw rejection }
        for program in Set(entity.prices.map(\.program)) { _ = try await Self.program(program, on: sql) }
        if try await sql.raw("SELECT id FROM entities WHERE id = \(bind: entity.id.rawValue)").first() != nil {
            throw Rejection(.alreadyExists, "entity \(entity.id) already exists")
        }
        try await sql.raw("""
            INSERT INTO entities (id, name, currency, currency_exponent)
            VALUES (\(bind: entity.id.rawValue), \(bind: entity.name), \(bind: entity.currency), \(bind: entity.currencyExponent))
            """).run()
        for price in entity.prices {
            try await Self.insertPrice(price, entity: entity.id, on: sql)
        }
    }

    /// Sets a list price from a date on, replacing one set for the same date. Orders already
    /// placed keep the price they were placed at.
    public func setListPrice(_ price: ListPrice, entity: Entity.ID) async throws {
        try await database.write { sql in try await Self.setListPrice(price, entity: entity, on: sql) }
    }

    public static func setListPrice(_ price: ListPrice, entity: Entity.ID, on sql: any SQLDatabase) async throws {
        _ = try await Self.entity(entity, on: sql)
        _ = try await Self.program(price.program, on: sql)
        try await sql.raw("""
            DELETE FROM list_prices WHERE entity_id = \(bind: entity.rawValue)
            AND program_id = \(bind: price.program.rawValue) AND effective_on = \(bind: price.effectiveOn.description)
            """).run()
        try await Self.insertPrice(price, entity: entity, on: sql)
    }

    static func insertPrice(_ price: ListPrice, entity: Entity.ID, on sql: any SQLDatabase) async throws {
        try await sql.raw("""
            INSERT INTO list_prices (entity_id, program_id, effective_on, price_minor)
            VALUES (\(bind: entity.rawValue), \(bind: price.program.rawValue), \(bind: price.effectiveOn.description), \(bind: price.priceMinor))
            """).run()
    }

    public func addCustomer(_ customer: Customer) async throws {
        try await database.write { sql in try await Self.addCustomer(customer, on: sql) }
    }

    public static func addCustomer(_ customer: Customer, on sql: any SQLDatabase) async throws {
        _ = try await Self.entity(customer.entity, on: sql)
        if try await sql.raw("SELECT id FROM customers WHERE id = \(bind: customer.id.rawValue)").first() != nil {
            throw Rejection(.alreadyExists, "customer \(customer.id) already exists")
        }
        try await sql.raw("""
            INSERT INTO customers (id, name, entity_id)
            VALUES (\(bind: customer.id.rawValue), \(bind: customer.name), \(bind: customer.entity.rawValue))
            """).run()
    }

    public func addOffering(_ offering: Offering) async throws {
        try await database.write { sql in try await Self.addOffering(offering, on: sql) }
    }

    public static func addOffering(_ offering: Offering, on sql: any SQLDatabase) async throws {
        for entity in offering.entities { _ = try await Self.entity(entity, on: sql) }
        if try await sql.raw("SELECT id FROM offerings WHERE id = \(bind: offering.id.rawValue)").first() != nil {
            throw Rejection(.alreadyExists, "offering \(offering.id) already exists")
        }
        try await sql.raw("""
            INSERT INTO offerings (id, name, kind, pricing, credits, deliverables, entities)
            VALUES (\(bind: offering.id.rawValue), \(bind: offering.name), \(bind: offering.kind.rawValue),
                \(bind: offering.pricing.rawValue), \(bind: offering.credits),
                \(bind: Rows.jsonText(offering.deliverables)), \(bind: Rows.jsonText(offering.entities)))
            """).run()
    }

    public func programs() async throws -> [Program] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM programs ORDER BY id").all().map { try Rows.program($0) }
        }
    }

    public func entities() async throws -> [Entity] {
        try await database.read { sql in
            let ids = try await sql.raw("SELECT id FROM entities ORDER BY id").all().map {
                Entity.ID(try $0.decode(column: "id", as: String.self))
            }
            var result: [Entity] = []
            for id in ids { result.append(try await Self.entity(id, on: sql)) }
            return result
        }
    }

    public func customers() async throws -> [Customer] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM customers ORDER BY id").all().map(Rows.customer)
        }
    }

    public func offerings() async throws -> [Offering] {
        try await database.read { sql in
            try await sql.raw("SELECT * FROM offerings ORDER BY id").all().map(Rows.offering)
        }
    }

    public func customer(_ id: Customer.ID) async throws -> Customer {
        try await database.read { sql in try await Self.customer(id, on: sql) }
    }
}
