import CreditsCore
import Crypto
import Foundation
import SQLKit

/// API tokens: random, shown once, stored only as their SHA-256.
extension DeskStore {
    public struct IssuedToken: Sendable, Codable {
        public let principal: String
        public let role: Actor.Role
        public let customers: [Customer.ID]
        /// The secret. Only this value grants access; the desk keeps its hash.
        public let token: String
    }

    static let tokenPrefix = "cdk_"

    /// Creates the principal if it is new (a known principal keeps its role) and a token for it.
    public func createToken(principal name: String, role: Actor.Role, customers: [Customer.ID]) async throws -> IssuedToken {
        let name = try Self.checkPrincipal(name, role: role, customers: customers)
        let token = Self.tokenPrefix + Self.randomHex(bytes: 24)
        let createdAt = recordedAt
        try await database.write { sql in
            try await Self.ensurePrincipal(name, role: role, customers: customers, createdAt: createdAt, on: sql)
            try await sql.raw("""
                INSERT INTO api_tokens (token_hash, principal, created_at) VALUES (\(bind: Self.tokenHash(token)), \(bind: name), \(bind: createdAt))
                """).run()
        }
        return IssuedToken(principal: name, role: role, customers: customers, token: token)
    }

    /// The role and customer binding every principal obeys, whether it signs in with a token or a password.
    static func checkPrincipal(_ name: String, role: Actor.Role, customers: [Customer.ID]) throws -> String {
        let name = try checkPrincipalName(name)
        if role == .customer && customers.count != 1 {
            throw Rejection(.invalidInput, "a customer user belongs to exactly one customer (--customer)")
        }
        if (role == .admin || role == .operations || role == .finance || role == .metrics) && !customers.isEmpty {
            throw Rejection(.invalidInput, "a \(role.rawValue) user sees every customer; don't name any")
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

    /// The principal a bearer token stands for, or nil for an unknown token.
    public func authenticate(token: String) async throws -> Principal? {
        guard token.hasPrefix(Self.tokenPrefix), token.utf8.count <= 100 else { return nil }
        return try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT p.name, p.role FROM api_tokens t JOIN principals p ON p.name = t.principal
                WHERE t.token_hash = \(bind: Self.tokenHash(token))
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
