/// Who is acting: recorded on every ledger entry (R16) and checked where a rule names a role.
public struct Actor: Hashable, Sendable, Codable {
    public enum Role: String, Sendable, Codable, CaseIterable {
        case admin
        case operations
        case accountManager = "account-manager"
        case customer
        case finance
    }

    public let name: String
    public let role: Role

    public init(name: String, role: Role) {
        self.name = name
        self.role = role
    }

    /// Vendor operations work: orders, call-offs, engagements, expiry runs and adjustments (R17).
    public var isVendorOperations: Bool { role == .operations || role == .admin }

    /// The command line acts as the desk's operator.
    public static let operator_ = Actor(name: "cli", role: .operations)
}
