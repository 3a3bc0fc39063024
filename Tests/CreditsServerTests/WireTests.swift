import CreditsCore
@testable import CreditsServer
import Testing

/// Values the API builds by hand, for speed, must equal what crossing by JSON gives.
@Suite("core values as API types")
struct WireTests {
    static func engagement(kind: EngagementKind, status: Engagement.Status, offering: Offering.ID?) -> Engagement {
        Engagement(
            id: Engagement.ID(42), customer: Customer.ID("acme"), program: Program.ID("PSC"), purchaseOrder: "PO-1",
            sowReference: "SOW \"7\" / é", sowSignedOn: CalendarDate("2024-02-29")!, offering: offering,
            title: "Fabric design", kind: kind, deliverables: ["HLD", "LLD"], credits: 15,
            calledOffOn: CalendarDate("2024-03-01")!, plannedEndOn: CalendarDate("2024-06-30")!,
            draws: [Draw(lot: Lot.ID(3), credits: 5), Draw(lot: Lot.ID(9), credits: 10)],
            status: status, statusChangedOn: CalendarDate("2024-03-02")!)
    }

    @Test("an engagement built field by field equals its JSON crossing, for every kind and status",
          arguments: EngagementKind.allCases, Engagement.Status.allCases)
    func engagementSchema(kind: EngagementKind, status: Engagement.Status) throws {
        for offering in [nil, Offering.ID("fabric-design")] {
            for overdue in [false, true] {
                let body = EngagementBody(engagement: Self.engagement(kind: kind, status: status, offering: offering), overdue: overdue)
                let crossed: Components.Schemas.Engagement = try Wire.convert(body)
                #expect(try body.schema == crossed)
                #expect(crossed.kind.rawValue == kind.rawValue && crossed.status.rawValue == status.rawValue)
                #expect(crossed.overdue == overdue && crossed.offering == offering?.rawValue)
            }
        }
    }

    @Test("a kind and a pricing cross by name as they cross by JSON, both ways, for every case")
    func enumerationCases() throws {
        for kind in EngagementKind.allCases {
            let crossed: Components.Schemas.EngagementKind = try Wire.convert(kind)
            #expect(try Wire.sameCase(kind) == crossed && Wire.sameCase(crossed) == kind)
        }
        for pricing in Pricing.allCases {
            let crossed: Components.Schemas.Pricing = try Wire.convert(pricing)
            #expect(try Wire.sameCase(pricing) == crossed && Wire.sameCase(crossed) == pricing)
        }
        #expect(throws: WireMismatch.self) { try Wire.sameCase(Pricing.durationBased, as: Components.Schemas.EngagementKind.self) }
    }
}
