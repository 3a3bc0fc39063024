import CreditsCore
import Crypto
import Foundation
import SQLKit

/// API tokens: random, shown once, stored only as their SHA-256.
extension DeskStore {
    public struct IssuedToken: Sendable, Codable {
        /// The token's public id (the start of its hash): what `token list` shows and `revoke` takes.
        public let id: String
        public let principal: String
        public let role: Actor.Role
        public let customers: [Customer.ID]
        public let expiresOn: CalendarDate?
        /// The secret. Only this value grants access; the desk keeps its hash.
        public let token: String
    }

    /// A token as listed: never its secret.
    public struct TokenRecord: Sendable, Codable, Equatable {
        public let id: String
        public let principal: String
        public let role: Actor.Role
        public let createdAt: String
        public let expiresOn: CalendarDate?
        public let revokedAt: String?
    }

    static let tokenPrefix = "cdk_"
    /// Hex digits of a token's hash that name it: 48 bits, so two tokens of one desk never share one.
    static let tokenIDLength = 12

    /// Creates the principal if it is new (a known principal keeps its role) and a token for it,
    /// valid until `expiresOn` (not on that day) or for ever.
    public func createToken(
        principal name: String, role: Actor.Role, customers: [Customer.ID], expiresOn: CalendarDate? = nil
    ) async throws -> IssuedToken {
        let name = try Self.checkPrincipal(name, role: role, customers: customers)
        if let expiresOn, expiresOn <= today {
            throw Rejection(.tokenExpiryPast, "a token's expiry must be after today (\(today)), got \(expiresOn)")
        }
        let token = Self.tokenPrefix + Self.randomHex(bytes: 24)
        let hash = Self.tokenHash(token)
        let createdAt = recordedAt
        try await database.write { sql in
            try await Self.ensurePrincipal(name, role: role, customers: customers, createdAt: createdAt, on: sql)
            try await sql.raw("""
                INSERT INTO api_tokens (token_hash, principal, created_at, expires_on)
                VALUES (\(bind: hash), \(bind: name), \(bind: createdAt), \(bind: expiresOn?.description))
                """).run()
        }
        return IssuedToken(id: String(hash.prefix(Self.tokenIDLength)), principal: name, role: role, customers: customers,
                           expiresOn: expiresOn, token: token)
    }

    /// Every token, newest first, with whether it was revoked.
    public func tokens() async throws -> [TokenRecord] {
        try await database.read { sql in
            try await sql.raw("""
                SELECT t.token_hash, t.principal, p.role, t.created_at, t.expires_on, t.revoked_at
                FROM api_tokens t JOIN principals p ON p.name = t.principal ORDER BY t.created_at DESC, t.token_hash
                """).all().map(Self.tokenRecord)
        }
    }

    /// Revokes a token by its id; it is refused from then on (by other servers within
    /// `TokenCache`'s lifetime). Revoking a revoked token changes nothing.
    public func revokeToken(id: String) async throws -> TokenRecord {
        guard id.count == Self.tokenIDLength, id.allSatisfy(\.isHexDigit) else {
            throw Rejection(.unknownToken, "no token \(id.prefix(40)); token ids are \(Self.tokenIDLength) hex digits (credits token list)")
        }
        let revokedAt = recordedAt
        return try await database.write { sql in
            let pattern = id.lowercased() + "%"
            try await sql.raw("""
                UPDATE api_tokens SET revoked_at = \(bind: revokedAt) WHERE token_hash LIKE \(bind: pattern) AND revoked_at IS NULL
                """).run()
            guard let row = try await sql.raw("""
                SELECT t.token_hash, t.principal, p.role, t.created_at, t.expires_on, t.revoked_at
                FROM api_tokens t JOIN principals p ON p.name = t.principal WHERE t.token_hash LIKE \(bind: pattern)
                """).first() else { throw Rejection(.unknownToken, "no token \(id)") }
            return try Self.tokenRecord(row)
        }
    }

    /// The public id of a token's secret.
    public static func tokenID(of token: String) -> String {
        String(tokenHash(token).prefix(tokenIDLength))
    }

    static func tokenRecord(_ row: any SQLRow) throws -> TokenRecord {
        TokenRecord(
            id: String(try row.decode(column: "token_hash", as: String.self).prefix(tokenIDLength)),
            principal: try row.decode(column: "principal", as: String.self),
            role: try Rows.enumeration(row, "role", as: Actor.Role.self),
            createdAt: try row.decode(column: "created_at", as: String.self),
            expiresOn: try row.decode(column: "expires_on", as: String?.self).flatMap(CalendarDate.init),
            revokedAt: try row.decode(column: "revoked_at", as: String?.self))
    }

    /// Today in UTC by the store's clock: the date a token's expiry is compared with.
    var today: CalendarDate {
        CalendarDate(String(LedgerChain.timestamp(now()).prefix(10)))!
    }

    /// The role and customer binding every principal obeys, whether it signs in with a token or a password.
    static func checkPrincipal(_ name: String, role: Actor.Role, customers: [Customer.ID]) throws -> String {
        let name = try checkPrincipalName(name)
        if role == .customer && customers.count != 1 {
            throw Rejection(.roleCustomers, "a customer user belongs to exactly one customer (--customer)")
        }
        if (role == .admin || role == .operations || role == .finance || role == .metrics) && !customers.isEmpty {
            throw Rejection(.roleCustomers, "a \(role.rawValue) user sees every customer; don't name any")
        }
        return name
    }

    /// Adds the principal, or checks that the existing one has this role; then binds the customers.
    static func ensurePrincipal(
        _ name: String, role: Actor.Role, customers: [Customer.ID], createdAt: String, on sql: any SQLDatabase
    ) async throws {
        for customer in customers { _ = try await Self.customer(customer, on: sql) }
        if let existing = try await sql.raw("SELECT role FROM principals WHERE name = \(bind: name)").first() {
            let existingRole = try existing.decode(column: "role", as: String.self)
            guard existingRole == role.rawValue else {
                throw Rejection(.alreadyExists, "principal \(name) exists with role \(existingRole)")
            }
        } else {
            try await sql.raw("""
                INSERT INTO principals (name, role, created_at) VALUES (\(bind: name), \(bind: role.rawValue), \(bind: createdAt))
                """).run()
        }
        for customer in customers {
            try await sql.raw("DELETE FROM principal_customers WHERE principal = \(bind: name) AND customer_id = \(bind: customer.rawValue)").run()
            try await sql.raw("INSERT INTO principal_customers (principal, customer_id) VALUES (\(bind: name), \(bind: customer.rawValue))").run()
        }
    }

    /// The principal a bearer token stands for, or nil for an unknown, revoked or expired token.
    public func authenticate(token: String) async throws -> Principal? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 100 else { return nil }
        let today = self.today.description
        return try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT p.name, p.role FROM api_tokens t JOIN principals p ON p.name = t.principal
                WHERE t.token_hash = \(bind: Self.tokenHash(token)) AND t.revoked_at IS NULL
                AND (t.expires_on IS NULL OR t.expires_on > \(bind: today))
                """).first() else { return nil }
            return try await Self.principal(row, on: sql)
        }
    }

    /// The principal of a `principals` row (its `name` and `role`), with its customers.
    static func principal(_ row: any SQLRow, on sql: any SQLDatabase) async throws -> Principal {
        let name = try row.decode(column: "name", as: String.self)
        let role = try Rows.enumeration(row, "role", as: Actor.Role.self)
        let customers = try await sql.raw("SELECT customer_id FROM principal_customers WHERE principal = \(bind: name)")
            .all().map { Customer.ID(try $0.decode(column: "customer_id", as: String.self)) }
        return Principal(actor: Actor(name: name, role: role), customers: Set(customers))
    }

    static func checkPrincipalName(_ name: String) throws -> String {
        let allowed = name.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.@".contains($0)) }
        guard !name.isEmpty, name.count <= Limits.codeLengthMax, allowed else {
            throw Rejection(.invalidInput, "principal name must be 1–\(Limits.codeLengthMax) letters, digits, '-', '_', '.', '@'")
        }
        return name
    }

    static func tokenHash(_ token: String) -> String {
        Hex.string(SHA256.hash(data: Data(token.utf8)))
    }

    static func randomHex(bytes: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return Hex.string((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }
}
