/// Who may see and do what. One policy for the API and (later) the portal, so a page can't show
/// what the API would refuse.
public struct Principal: Hashable, Sendable, Codable {
    public let actor: Actor
    /// Customers a customer user belongs to (one) or an account manager is assigned to.
    /// Vendor-wide roles (admin, operations, finance) have no list: they see every customer.
    public let customers: Set<Customer.ID>

    public init(actor: Actor, customers: Set<Customer.ID> = []) {
        self.actor = actor
        self.customers = customers
    }

    public var role: Actor.Role { actor.role }

    /// What a request does, as far as permissions go.
    public enum Action: Sendable, Equatable {
        /// Read anything of one customer.
        case readCustomer(Customer.ID)
        /// Read what spans customers: the ledger, verification, the expiring list, invoices.
        case readDesk
        /// Read programs, entities and the catalog.
        case readCatalog
        /// Change the catalog: entities, prices, offerings, tokens.
        case administer
        /// Add a customer.
        case onboardCustomer
        /// Order credits, call off, move engagements along, for one customer.
        case act(for: Customer.ID)
        /// Adjustments and expiry runs: vendor operations only (R17).
        case operate
        /// The server's metrics, which show desk-wide credit totals (hardening L7).
        case readMetrics
    }

    public func may(_ action: Action) -> Bool {
        switch (role, action) {
        case (.admin, _): true
        case (.metrics, .readMetrics): true
        case (.metrics, _), (_, .readMetrics): false
        case (_, .readCatalog): true
        case (.operations, .administer): false
        case (.operations, _): true
        case (.finance, .readCustomer), (.finance, .readDesk): true
        case (.finance, _): false
        case (.accountManager, .readCustomer(let id)), (.accountManager, .act(let id)): customers.contains(id)
        case (.customer, .readCustomer(let id)): customers.contains(id)
        case (.accountManager, _), (.customer, _): false
        }
    }

    /// Whether the customer exists for this principal at all: a customer user asking about
    /// another customer is told it doesn't exist (404), not that it is forbidden, so that
    /// customer codes can't be probed.
    public func sees(_ customer: Customer.ID) -> Bool { may(.readCustomer(customer)) }
}
