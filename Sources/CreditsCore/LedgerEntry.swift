/// One change of one lot's balances (R16). Entries are only ever appended; the store adds the
/// sequence number, the time it was recorded and the hash chain.
public struct LedgerEntry: Hashable, Sendable, Codable {
    public enum Kind: String, Sendable, Codable, CaseIterable {
        /// Credits bought: available +n.
        case purchase
        /// Credits committed to an engagement: available −n, held +n.
        case callOff = "call-off"
        /// Held credits spent by a delivered engagement: held −n.
        case delivery
        /// Held credits given back by a cancelled engagement: held −n, available +n.
        case `return`
        /// Unused credits lost at the end of the term: available −n.
        case expiry
        /// A correction by vendor operations: available ±n.
        case adjustment
    }

    public let kind: Kind
    public let lot: Lot.ID
    public let customer: Customer.ID
    public let program: Program.ID
    public let creditsAvailableDelta: Int
    public let creditsHeldDelta: Int
    /// The business date the change belongs to (statements group by it).
    public let effectiveOn: CalendarDate
    public let actor: String
    public let reason: String
    /// The document it came from: `order/12`, `engagement/7`, `adjustment`, `expiry`.
    public let document: String

    public init(
        kind: Kind, lot: Lot.ID, customer: Customer.ID, program: Program.ID,
        creditsAvailableDelta: Int, creditsHeldDelta: Int, effectiveOn: CalendarDate,
        actor: String, reason: String, document: String
    ) {
        self.kind = kind
        self.lot = lot
        self.customer = customer
        self.program = program
        self.creditsAvailableDelta = creditsAvailableDelta
        self.creditsHeldDelta = creditsHeldDelta
        self.effectiveOn = effectiveOn
        self.actor = actor
        self.reason = reason
        self.document = document
        precondition(Self.hasValidShape(kind: kind, available: creditsAvailableDelta, held: creditsHeldDelta),
            "a \(kind) entry can't move available \(creditsAvailableDelta), held \(creditsHeldDelta)")
    }

    /// The only movements each kind may make. `credits verify` checks stored entries with it too.
    public static func hasValidShape(kind: Kind, available: Int, held: Int) -> Bool {
        switch kind {
        case .purchase: available > 0 && held == 0
        case .callOff: available < 0 && held == -available
        case .delivery: available == 0 && held < 0
        case .return: available > 0 && held == -available
        case .expiry: available < 0 && held == 0
        case .adjustment: available != 0 && held == 0
        }
    }
}
