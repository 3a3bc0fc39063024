import CreditsCore
import Testing

@Suite("Orders (R1–R7)")
struct OrderRuleTests {
    @Test("R1 a purchase order number is required and unique per customer", arguments: [
        (nil, [], .missingPurchaseOrder),
        ("", [], .missingPurchaseOrder),
        ("   ", [], .missingPurchaseOrder),
        ("PO-1", ["PO-1"], .duplicatePurchaseOrder),
        (" PO-1 ", ["PO-1"], .duplicatePurchaseOrder),
        ("PO-2", ["PO-1"], nil),
        ("PO-1", [], nil),
    ] as [(String?, Set<String>, RejectionCode?)])
    func r1PurchaseOrder(po: String?, used: Set<String>, expected: RejectionCode?) {
        let result = Fixture.order([BlockLine(size: 10, count: 1)], po: po, used: used)
        #expect(result.rejectionCode == expected)
    }

    @Test("R2 an order goes through the customer's own entity")
    func r2Entity() {
        #expect(Fixture.order([BlockLine(size: 10, count: 1)], entity: Fixture.otherEntity).rejectionCode == .wrongEntity)
        #expect(Fixture.order([BlockLine(size: 10, count: 1)], entity: Fixture.entity).value != nil)
    }

    @Test("R2 R5 the list price in force on the order date; none before the first price", arguments: [
        ("2019-12-31", Int?.none),
        ("2020-01-01", 140_000),
        ("2026-05-31", 140_000),
        ("2026-06-01", 150_000),
    ])
    func r2ListPriceByDate(day: String, price: Int?) {
        let result = Fixture.order([BlockLine(size: 10, count: 1)], today: Fixture.date(day))
        if let price {
            #expect(result.value?.order.priceMinor == price)
        } else {
            #expect(result.rejectionCode == .noListPrice)
        }
    }

    @Test("R3 only the program's block sizes", arguments: [
        (0, RejectionCode?.some(.invalidBlockSize)), (1, nil), (5, .invalidBlockSize), (10, nil), (25, nil),
        (50, nil), (51, .invalidBlockSize), (-10, .invalidBlockSize),
    ])
    func r3BlockSizes(size: Int, expected: RejectionCode?) {
        // Ten lines of the size keep every valid case above the minimum order.
        let result = Fixture.order([BlockLine(size: size, count: 10)])
        #expect(result.rejectionCode == expected)
    }

    @Test("R3 block lines parse from SIZExCOUNT", arguments: [
        ("10x2", BlockLine?.some(BlockLine(size: 10, count: 2))), ("25", BlockLine(size: 25, count: 1)),
        ("1x0", nil), ("x2", nil), ("10x", nil), ("10x2x3", nil), ("2.5x2", nil), ("10x-1", nil),
    ])
    func r3BlockLineParsing(text: String, expected: BlockLine?) {
        #expect(BlockLine.parse(text).value == expected)
    }

    @Test("R4 an order totals at least 10 credits", arguments: [
        ([BlockLine(size: 1, count: 9)], RejectionCode?.some(.minimumOrder)),
        ([BlockLine(size: 1, count: 10)], nil),
        ([BlockLine(size: 1, count: 11)], nil),
        ([BlockLine(size: 1, count: 4), BlockLine(size: 1, count: 5)], .minimumOrder),
        ([BlockLine(size: 1, count: 5), BlockLine(size: 1, count: 5)], nil),
        ([], .minimumOrder),
    ])
    func r4MinimumOrder(blocks: [BlockLine], expected: RejectionCode?) {
        #expect(Fixture.order(blocks).rejectionCode == expected)
    }

    @Test("R4 the minimum is the same for FSC (decision)", arguments: [(9, false), (10, true), (11, true)])
    func r4MinimumOrderFlexible(credits: Int, accepted: Bool) {
        #expect((Fixture.order([BlockLine(size: 1, count: credits)], program: "FSC").value != nil) == accepted)
    }

    @Test("R5 credits are not discountable", arguments: [
        (Int?.none, Int?.none, RejectionCode?.none),
        (140_000, nil, nil),
        (139_999, nil, .discountNotAllowed),
        (140_001, nil, .discountNotAllowed),
        (nil, 0, nil),
        (nil, 10, .discountNotAllowed),
        (nil, -5, .discountNotAllowed),
    ])
    func r5NoDiscount(price: Int?, discount: Int?, expected: RejectionCode?) {
        let result = Fixture.order([BlockLine(size: 10, count: 2)], price: price, discount: discount)
        #expect(result.rejectionCode == expected)
    }

    @Test("R6 one invoice for the whole order, at list price, on the order date")
    func r6Invoice() throws {
        let decision = try Fixture.order([BlockLine(size: 25, count: 2), BlockLine(size: 1, count: 3)]).get()
        #expect(decision.order.credits == 53)
        #expect(decision.order.invoice.amountMinor == 53 * 140_000)
        #expect(decision.order.invoice.currency == "EUR")
        #expect(decision.order.invoice.issuedOn == Fixture.today)
        #expect(decision.entries.count == 1)
        #expect(decision.entries[0].kind == .purchase && decision.entries[0].creditsAvailableDelta == 53)
        #expect(decision.lot.creditsAvailable == 53 && decision.lot.creditsGranted == 53)
    }

    @Test("R6 the order bound keeps amounts far from overflow")
    func r6OrderBound() {
        #expect(Fixture.order([BlockLine(size: 50, count: 2_000)]).value?.order.credits == 100_000)
        #expect(Fixture.order([BlockLine(size: 50, count: 2_001)]).rejectionCode == .orderTooLarge)
        let lines = Array(repeating: BlockLine(size: 10, count: 1), count: Limits.blockLinesPerOrderMax + 1)
        #expect(Fixture.order(lines).rejectionCode == .orderTooLarge)
    }

    @Test("R7 a lot expires 12 calendar months after purchase (decision on month ends)", arguments: [
        ("2026-03-15", "2027-03-15"), ("2026-01-31", "2027-01-31"), ("2024-02-29", "2025-02-28"),
        ("2027-02-28", "2028-02-28"), ("2026-12-31", "2027-12-31"), ("2026-08-31", "2027-08-31"),
    ])
    func r7Term(purchased: String, expires: String) throws {
        let decision = try Fixture.order([BlockLine(size: 10, count: 1)], today: Fixture.date(purchased)).get()
        #expect(decision.lot.expiresOn == Fixture.date(expires))
    }
}
