/// Checks on what an admin puts into the catalog: bounds and well-formed codes. They keep bad
/// data out at the door, so the rules never see a negative price or a nameless customer.
public enum CatalogRules {
    public static func entity(id: String, name: String, currency: String, currencyExponent: Int) -> Result<Entity, Rejection> {
        Result {
            let id = try Text.code(id, field: "entity code").get()
            let name = try Text.required(name, field: "entity name", missing: .invalidInput).get()
            guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isUppercase }) else {
                throw Rejection(.invalidInput, "currency '\(currency.prefix(10))' must be an ISO 4217 code like EUR")
            }
            guard (0...4).contains(currencyExponent) else {
                throw Rejection(.invalidInput, "currency exponent must be 0 to 4")
            }
            return Entity(id: Entity.ID(id), name: name, currency: currency, currencyExponent: currencyExponent, prices: [])
        }
    }

    public static func listPrice(program: Program.ID, priceMinor: Int, effectiveOn: CalendarDate) -> Result<ListPrice, Rejection> {
        guard (1...Limits.priceMinorMax).contains(priceMinor) else {
            return .failure(Rejection(.invalidInput, "a list price is 1 to \(Limits.priceMinorMax) minor units per credit"))
        }
        return .success(ListPrice(program: program, priceMinor: priceMinor, effectiveOn: effectiveOn))
    }

    /// An entity's prices: at most one per program and date, at most 100 in all.
    public static func checkPrices(_ prices: [ListPrice]) -> Rejection? {
        guard prices.count <= 100 else { return Rejection(.invalidInput, "an entity has at most 100 list prices") }
        var seen = Set<String>()
        for price in prices where !seen.insert("\(price.program) \(price.effectiveOn)").inserted {
            return Rejection(.invalidInput, "two \(price.program) prices from \(price.effectiveOn)")
        }
        return nil
    }

    public static func customer(id: String, name: String, entity: Entity.ID) -> Result<Customer, Rejection> {
        Result {
            let id = try Text.code(id, field: "customer code").get()
            let name = try Text.required(name, field: "customer name", missing: .invalidInput).get()
            return Customer(id: Customer.ID(id), name: name, entity: entity)
        }
    }

    public static func offering(
        id: String, name: String, kind: EngagementKind, pricing: Pricing, credits: Int,
        deliverables: [String], entities: [Entity.ID]
    ) -> Result<Offering, Rejection> {
        Result {
            let id = try Text.code(id, field: "offering code").get()
            let name = try Text.required(name, field: "offering name", missing: .invalidInput).get()
            guard (1...Limits.creditsPerCallOffMax).contains(credits) else {
                throw Rejection(.invalidCredits, "an offering costs 1 to \(Limits.creditsPerCallOffMax) credits")
            }
            let items = try deliverables.prefix(Limits.deliverablesMax + 1).map {
                try Text.required($0, field: "deliverable", missing: .missingDeliverables).get()
            }
            guard items.count <= Limits.deliverablesMax else {
                throw Rejection(.invalidInput, "at most \(Limits.deliverablesMax) deliverables")
            }
            guard !entities.isEmpty, entities.count <= Limits.entitiesPerOfferingMax else {
                throw Rejection(.invalidInput, "an offering is deliverable in 1 to \(Limits.entitiesPerOfferingMax) entities")
            }
            // A duration-based offering may be listed (the catalog mirrors the vendor's), but
            // R8 refuses it at call-off; an offering without deliverables is duration work too.
            return Offering(id: Offering.ID(id), name: name, kind: kind, pricing: pricing, credits: credits,
                            deliverables: items, entities: entities)
        }
    }
}

extension Result where Failure == Rejection {
    /// Builds a result from a throwing body whose only errors are rejections.
    init(_ body: () throws -> Success) {
        do {
            self = .success(try body())
        } catch let rejection as Rejection {
            self = .failure(rejection)
        } catch {
            preconditionFailure("only rejections are thrown here: \(error)")
        }
    }
}
