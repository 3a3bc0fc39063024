import CreditsCore
import Foundation
import HummingbirdBcrypt
import NIOPosix
import SQLKit

/// Portal users: a principal with a password (bcrypt), and the sessions they sign in to.
/// A user and an API token of the same principal have the same role and customers, so the
/// portal can't show what the API would refuse.
extension DeskStore {
    public static let passwordLengthMin = 10
    /// bcrypt reads at most 72 bytes; a longer password would be silently cut, so it is refused.
    public static let passwordLengthMax = 72
    public static let sessionLifetimeSeconds = 8 * 60 * 60
    static let bcryptCost: UInt8 = 11
    static let sessionPrefix = "cds_"

    /// Creates the user (and its principal, if new) or sets a new password for it.
    public func createUser(name: String, role: Actor.Role, customers: [Customer.ID], password: String) async throws {
        let name = try Self.checkPrincipal(name, role: role, customers: customers)
        guard (Self.passwordLengthMin...Self.passwordLengthMax).contains(password.utf8.count) else {
            throw Rejection(.invalidInput, "a password is \(Self.passwordLengthMin) to \(Self.passwordLengthMax) bytes")
        }
        let hash = try await Self.offThread { Bcrypt.hash(password, cost: Self.bcryptCost) }
        let createdAt = recordedAt
        try await database.write { sql in
            try await Self.ensurePrincipal(name, role: role, customers: customers, createdAt: createdAt, on: sql)
            try await sql.raw("DELETE FROM portal_users WHERE principal = \(bind: name)").run()
            try await sql.raw("""
                INSERT INTO portal_users (principal, password_hash, created_at) VALUES (\(bind: name), \(bind: hash), \(bind: createdAt))
                """).run()
        }
    }

    /// A new session for a user whose password matches, or nil. The answer takes as long for an
    /// unknown name as for a wrong password, so names can't be probed by timing.
    public func signIn(name: String, password: String) async throws -> String? {
        guard name.utf8.count <= Limits.codeLengthMax, password.utf8.count <= Self.passwordLengthMax else { return nil }
        let stored = try await database.read { sql in
            try await sql.raw("SELECT password_hash FROM portal_users WHERE principal = \(bind: name)").first()
                .map { try $0.decode(column: "password_hash", as: String.self) }
        }
        let matches = try await Self.offThread { Bcrypt.verify(password, hash: stored ?? Self.unknownUserHash) }
        guard stored != nil, matches else { return nil }
        let token = Self.sessionPrefix + Self.randomHex(bytes: 24)
        let now = self.now()
        let expiresAt = Int(now.timeIntervalSince1970) + Self.sessionLifetimeSeconds
        let createdAt = LedgerChain.timestamp(now)
        try await database.write { sql in
            try await sql.raw("""
                INSERT INTO portal_sessions (token_hash, principal, created_at, expires_at)
                VALUES (\(bind: Self.tokenHash(token)), \(bind: name), \(bind: createdAt), \(bind: expiresAt))
                """).run()
        }
        return token
    }

    /// The principal of a live session, or nil for an unknown or expired one.
    public func principal(session token: String) async throws -> Principal? {
        guard token.hasPrefix(Self.sessionPrefix), token.utf8.count <= 100 else { return nil }
        let now = Int(self.now().timeIntervalSince1970)
        return try await database.read { sql in
            guard let row = try await sql.raw("""
                SELECT p.name, p.role FROM portal_sessions s JOIN principals p ON p.name = s.principal
                WHERE s.token_hash = \(bind: Self.tokenHash(token)) AND s.expires_at > \(bind: now)
                """).first() else { return nil }
            return try await Self.principal(row, on: sql)
        }
    }

    /// Ends a session (and sweeps expired ones, so the table stays small without a job of its own).
    public func signOut(session token: String) async throws {
        let now = Int(self.now().timeIntervalSince1970)
        try await database.write { sql in
            try await sql.raw("DELETE FROM portal_sessions WHERE token_hash = \(bind: Self.tokenHash(token)) OR expires_at <= \(bind: now)").run()
        }
    }

    /// A hash no password matches in practice, checked for unknown names to spend the same time.
    static let unknownUserHash = Bcrypt.hash(randomHex(bytes: 16), cost: bcryptCost)

    /// bcrypt is deliberately slow; it runs on the blocking pool, not on the server's event loops.
    static func offThread<T: Sendable>(_ work: @escaping @Sendable () -> T) async throws -> T {
        try await NIOThreadPool.singleton.runIfActive { work() }
    }
}
