import CreditsCore
import CreditsStore
import Foundation
import OpenAPIRuntime

/// Programs, entities, offerings and customers.
extension DeskAPI {
    func listPrograms(_ input: Operations.ListPrograms.Input) async throws -> Operations.ListPrograms.Output {
        try await respond(Operations.ListPrograms.Output.default) {
            try authorize(.readCatalog)
            return .ok(.init(body: .json(try Wire.convert(try await store.programs()))))
        }
    }

    func listEntities(_ input: Operations.ListEntities.Input) async throws -> Operations.ListEntities.Output {
        try await respond(Operations.ListEntities.Output.default) {
            try authorize(.readCatalog)
            return .ok(.init(body: .json(try Wire.convert(try await store.entities()))))
        }
    }

    func createEntity(_ input: Operations.CreateEntity.Input) async throws -> Operations.CreateEntity.Output {
        try await respond(Operations.CreateEntity.Output.default) {
            try authorize(.administer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            var entity = try CatalogRules.entity(id: body.id, name: body.name, currency: body.currency,
                                                 currencyExponent: body.currencyExponent ?? 2).get()
            entity.prices = try (body.prices ?? []).map(Self.listPrice)
            let created = entity
            return try await write("createEntity", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Entity.self, problem: Operations.CreateEntity.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, _, _ in
                try await DeskStore.addEntity(created, on: sql)
                return created
            }
        }
    }

    static func listPrice(_ body: Components.Schemas.ListPrice) throws -> ListPrice {
        try CatalogRules.listPrice(program: Program.ID(body.program), priceMinor: body.priceMinor,
                                   effectiveOn: requiredDate(body.effectiveOn, field: "effectiveOn")).get()
    }

    func setListPrice(_ input: Operations.SetListPrice.Input) async throws -> Operations.SetListPrice.Output {
        try await respond(Operations.SetListPrice.Output.default) {
            try authorize(.administer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let price = try Self.listPrice(body)
            let entity = Entity.ID(input.path.entityId)
            return try await write("setListPrice \(entity)", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.ListPrice.self, problem: Operations.SetListPrice.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, _, _ in
                try await DeskStore.setListPrice(price, entity: entity, on: sql)
                return price
            }
        }
    }

    func listOfferings(_ input: Operations.ListOfferings.Input) async throws -> Operations.ListOfferings.Output {
        try await respond(Operations.ListOfferings.Output.default) {
            try authorize(.readCatalog)
            return .ok(.init(body: .json(try Wire.convert(try await store.offerings()))))
        }
    }

    func createOffering(_ input: Operations.CreateOffering.Input) async throws -> Operations.CreateOffering.Output {
        try await respond(Operations.CreateOffering.Output.default) {
            try authorize(.administer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let offering = try CatalogRules.offering(
                id: body.id, name: body.name, kind: try Wire.sameCase(body.kind), pricing: try Wire.sameCase(body.pricing),
                credits: body.credits, deliverables: body.deliverables, entities: body.entities.map(Entity.ID.init)).get()
            return try await write("createOffering", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Offering.self, problem: Operations.CreateOffering.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, _, _ in
                try await DeskStore.addOffering(offering, on: sql)
                return offering
            }
        }
    }

    func listCustomers(_ input: Operations.ListCustomers.Input) async throws -> Operations.ListCustomers.Output {
        try await respond(Operations.ListCustomers.Output.default) {
            let principal = try principal()
            let limit = try Self.pageSize(input.query.limit)
            let visible = try await store.customers().filter { principal.sees($0.id) }
            let after = try Self.code(input.query.after, field: "after")
            let page = Array(visible.filter { after == nil || $0.id.rawValue > after! }.prefix(limit))
            struct Page: Encodable { let customers: [Customer]; let nextAfter: String? }
            let next = page.count == limit && page.last.map({ last in visible.contains { $0.id > last.id } }) == true ? page.last?.id.rawValue : nil
            return .ok(.init(body: .json(try Wire.convert(Page(customers: page, nextAfter: next)))))
        }
    }

    func createCustomer(_ input: Operations.CreateCustomer.Input) async throws -> Operations.CreateCustomer.Output {
        try await respond(Operations.CreateCustomer.Output.default) {
            try authorize(.onboardCustomer)
            guard case .json(let body) = input.body else { throw Rejection(.invalidInput, "a JSON body is required") }
            let customer = try CatalogRules.customer(id: body.id, name: body.name, entity: Entity.ID(body.entity)).get()
            return try await write("createCustomer", key: input.headers.idempotencyKey, request: body,
                                   as: Components.Schemas.Customer.self, problem: Operations.CreateCustomer.Output.default,
                                   success: { .created(.init(body: .json($0))) }) { sql, _, _ in
                try await DeskStore.addCustomer(customer, on: sql)
                return customer
            }
        }
    }

    func getCustomer(_ input: Operations.GetCustomer.Input) async throws -> Operations.GetCustomer.Output {
        try await respond(Operations.GetCustomer.Output.default) {
            let id = Customer.ID(input.path.customerId)
            try authorize(.readCustomer(id))
            let summary = try await store.summary(of: id, today: today())
            struct Body: Encodable {
                let customer: Customer
                let balances: [ProgramBalance]
                let lots: [Lot]
                let orders: [Order]
                let engagements: [EngagementBody]
            }
            let body = Body(customer: summary.customer, balances: summary.balances, lots: summary.lots, orders: summary.orders,
                            engagements: summary.engagements.map { EngagementBody(engagement: $0.engagement, overdue: $0.overdue) })
            return .ok(.init(body: .json(try Wire.convert(body))))
        }
    }
}
