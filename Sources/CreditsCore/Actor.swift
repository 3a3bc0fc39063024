/// Who is acting: recorded on every ledger entry (R16) and checked where a rule names a role.
public struct Actor: Hashable, Sendable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case admin
        case operations
        case accountManager = "account-manager"
        case customer
        case finance
        /// A monitoring system: reads `/metrics` and nothing else.
        case metrics
    }

    public let name: String
    public let role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// Vendor operations work: orders, call-offs, engagements, expiry runs and adjustments (R17).
    public var isVendorOperations: Bool { role == .operations || role == .admin }

    /// The desk itself, for work no person asked for as such: a statement issued because someone
    /// read a past quarter is issued by the desk, not by that reader (hardening L3, R17).
    public static let desk = Actor(name: "desk", role: .operations)

    /// The command line acts as the desk's operator.
    public static let operator_ = Actor(name: "cli", role: .operations)
}
