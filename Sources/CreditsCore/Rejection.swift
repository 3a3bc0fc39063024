/// The closed set of reasons the core refuses an operation. The raw value is the stable code that
/// the CLI prints, the API puts in problem+json `type`, and the tests assert.
///
/// Ordered roughly by precedence: an operation checks the earlier cases first, so a request that
/// breaks several rules is rejected for the first one in this list.
public enum RejectionCode: String, Sendable, Codable, CaseIterable {
    // Input that can't be read at all.
    case invalidInput = "invalid-input"
    /// Text with a control character, or longer than any field takes (`TextCheck`).
    case invalidText = "invalid-text"
    case invalidDate = "invalid-date"
    /// A real date outside the years the desk keeps.
    case dateOutOfRange = "date-out-of-range"
    case invalidCredits = "invalid-credits"
    case fractionalCredits = "fractional-credits"
    case notPermitted = "not-permitted"
    // Unknown references.
    case unknownProgram = "unknown-program"
    case unknownEntity = "unknown-entity"
    case unknownCustomer = "unknown-customer"
    case unknownOffering = "unknown-offering"
    case unknownLot = "unknown-lot"
    case unknownEngagement = "unknown-engagement"
    case unknownToken = "unknown-token"
    case unknownUser = "unknown-user"
    case alreadyExists = "already-exists"
    /// An idempotency key reused with a different request.
    case idempotencyKeyReuse = "idempotency-key-reuse"
    // Orders.
    case missingPurchaseOrder = "missing-po"
    case duplicatePurchaseOrder = "duplicate-po"
    case wrongEntity = "wrong-entity"
    case noListPrice = "no-list-price"
    case invalidBlockSize = "invalid-block-size"
    case minimumOrder = "minimum-order"
    case discountNotAllowed = "discount-not-allowed"
    case orderTooLarge = "order-too-large"
    // Call-offs.
    case missingStatementOfWork = "missing-sow"
    case statementOfWorkNotSigned = "sow-not-signed"
    case durationBasedEngagement = "duration-based-engagement"
    case missingDeliverables = "missing-deliverables"
    case kindNotCovered = "kind-not-covered"
    case notDeliverableInEntity = "not-deliverable-in-entity"
    case minimumCallOff = "minimum-call-off"
    case plannedEndInPast = "planned-end-in-past"
    case insufficientCredits = "insufficient-credits"
    // Engagements.
    case invalidTransition = "invalid-transition"
    // Adjustments.
    case missingReason = "missing-reason"
    case adjustmentExceedsBalance = "adjustment-exceeds-balance"
    case invalidExpiry = "invalid-expiry"
    // Expiry.
    case expiryAfterToday = "expiry-after-today"
    // Access.
    /// A token asked to expire on a day that is not after today.
    case tokenExpiryPast = "token-expiry-past"
    /// A token asked to revoke itself.
    case ownToken = "own-token"
    /// Customers named for a role that has none, or not exactly one for a customer user.
    case roleCustomers = "role-customers"
    // Statements.
    case quarterNotStarted = "quarter-not-started"
    /// A past quarter before the customer's first lot: there is no statement to issue.
    case noStatement = "no-statement"

    /// The rule of RULES.md a code enforces, when it enforces one.
    public var rule: String? {
        switch self {
        case .missingPurchaseOrder, .duplicatePurchaseOrder: "R1"
        case .wrongEntity, .noListPrice, .notDeliverableInEntity: "R2"
        case .invalidBlockSize: "R3"
        case .minimumOrder: "R4"
        case .discountNotAllowed: "R5"
        case .orderTooLarge: "R6"
        case .expiryAfterToday: "R7"
        case .durationBasedEngagement, .missingDeliverables, .kindNotCovered: "R8"
        case .missingStatementOfWork, .statementOfWorkNotSigned: "R9"
        case .minimumCallOff: "R10"
        case .fractionalCredits: "R11"
        case .insufficientCredits, .plannedEndInPast: "R12"
        case .invalidTransition: "R13"
        case .quarterNotStarted, .noStatement: "R14"
        case .missingReason, .adjustmentExceedsBalance, .invalidExpiry, .notPermitted: "R17"
        default: nil
        }
    }

    /// Whether the same request could succeed later without being changed (a retry after more
    /// credits are bought, say). Clients use it to decide between retrying and fixing the input.
    public var mayPassLater: Bool {
        switch self {
        case .insufficientCredits, .unknownCustomer, .unknownOffering, .unknownLot,
            .unknownEngagement, .unknownEntity, .noListPrice, .quarterNotStarted,
            .statementOfWorkNotSigned:
            true
        default: false
        }
    }
}

/// A refusal: the stable code plus a sentence for people that names the numbers involved.
public struct Rejection: Error, Hashable, Sendable, CustomStringConvertible {
    public let code: RejectionCode
    public let detail: String

    public init(_ code: RejectionCode, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `minimum-call-off (R10): …` — one line, rule first, for the CLI and logs.
    public var description: String {
        if let rule = code.rule { return "\(code.rawValue) (\(rule)): \(detail)" }
        return "\(code.rawValue): \(detail)"
    }
}
