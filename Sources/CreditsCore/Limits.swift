/// Every input has a bound (TIGER_STYLE: "put a limit on everything"). The bounds are far above
/// any real credits program, and low enough that no product of them overflows an `Int`.
public enum Limits {
    public static let creditsPerOrderMax = 100_000
    public static let blockLinesPerOrderMax = 20
    public static let creditsPerCallOffMax = 100_000
    public static let adjustmentCreditsMax = 100_000
    /// Minor units per credit (10^8 minor units is a million in a two-decimal currency).
    public static let priceMinorMax = 100_000_000
    public static let codeLengthMax = 40
    public static let textLengthMax = 200
    public static let reasonLengthMax = 500
    public static let deliverablesMax = 50
    public static let entitiesPerOfferingMax = 100
    /// Lots of one customer and program that a call-off considers; a customer with more has
    /// bought a new lot every day for 27 years.
    public static let lotsPerCustomerMax = 10_000
    /// R15's look-ahead is bounded so a view can't be asked to scan a century.
    public static let expiringWithinDaysMax = 3_660
}
