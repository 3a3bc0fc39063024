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

    /// A portal user as listed: never its password.
    public struct UserRecord: Sendable, Codable, Equatable {
        public let name: String
        public let role: Actor.Role
        public let customers: [Customer.ID]
        public let createdAt: String
        public let disabledAt: String?
        /// Sessions not yet expired.
        public let sessions: Int
    }

    /// Creates the user (and its principal, if new) or sets a new password for it.
    public func createUser(name: String, role: Actor.Role, customers: [Customer.ID], password: String) async throws {
        let name = try Self.checkPrincipal(name, role: role, customers: customers)
        try Self.checkPassword(password)
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

    /// Every portal user, by name.
    public func users() async throws -> [UserRecord] {
        let now = Int(self.now().timeIntervalSince1970)
        return try await database.read { sql in
            var users: [UserRecord] = []
            for row in try await sql.raw("""
                SELECT u.principal AS name, p.role, u.created_at, u.disabled_at,
                    (SELECT COUNT(*) FROM portal_sessions s WHERE s.principal = u.principal AND s.expires_at > \(bind: now)) AS sessions
                FROM portal_users u JOIN principals p ON p.name = u.principal ORDER BY u.principal
                """).all() {
                let principal = try await Self.principal(row, on: sql)
                users.append(UserRecord(
                    name: principal.actor.name, role: principal.role, customers: principal.customers.sorted(),
                    createdAt: try row.decode(column: "created_at", as: String.self),
                    disabledAt: try row.decode(column: "disabled_at", as: String?.self),
                    sessions: try row.decode(column: "sessions", as: Int.self)))
            }
            return users
        }
    }

    /// What an admin does to a portal user. Each ends the user's sessions at once, on every server
    /// (sessions are looked up in the database on every request).
    public enum UserChange: Sendable {
        /// The user can't sign in until a new password is set.
        case disable
        /// The user is gone; the principal stays, since the ledger names it.
        case delete
        /// A new password; the old sessions end.
        case resetPassword(String)
    }

    public func change(user name: String, _ change: UserChange) async throws {
        var newHash: String?
        if case .resetPassword(let password) = change {
            try Self.checkPassword(password)
            newHash = try await Self.offThread { Bcrypt.hash(password, cost: Self.bcryptCost) }
        }
        let hash = newHash
        let at = recordedAt
        try await database.write { sql in
            guard try await sql.raw("SELECT principal FROM portal_users WHERE principal = \(bind: name)").first() != nil else {
                throw Rejection(.unknownUser, "no portal user \(name.prefix(40))")
            }
            try await sql.raw("DELETE FROM portal_sessions WHERE principal = \(bind: name)").run()
            switch change {
            case .disable:
                try await sql.raw("UPDATE portal_users SET disabled_at = \(bind: at) WHERE principal = \(bind: name)").run()
            case .delete:
                try await sql.raw("DELETE FROM portal_users WHERE principal = \(bind: name)").run()
            case .resetPassword:
                try await sql.raw("""
                    UPDATE portal_users SET password_hash = \(bind: hash!), disabled_at = NULL WHERE principal = \(bind: name)
                    """).run()
            }
        }
    }

    static func checkPassword(_ password: String) throws {
        guard (Self.passwordLengthMin...Self.passwordLengthMax).contains(password.utf8.count) else {
            throw Rejection(.invalidInput, "a password is \(Self.passwordLengthMin) to \(Self.passwordLengthMax) bytes")
        }
    }

    /// A new session for a user whose password matches, or nil. The answer takes as long for an
    /// unknown name as for a wrong password, so names can't be probed by timing.
    public func signIn(name: String, password: String) async throws -> String? {
        guard name.utf8.count <= Limits.codeLengthMax, password.utf8.count <= Self.passwordLengthMax else { return nil }
        let stored = try await database.read { sql in
            // A disabled user is checked like an unknown one: same answer, same time.
            try await sql.raw("SELECT password_hash FROM portal_users WHERE principal = \(bind: name) AND disabled_at IS NULL").first()
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
                JOIN portal_users u ON u.principal = s.principal
                WHERE s.token_hash = \(bind: Self.tokenHash(token)) AND s.expires_at > \(bind: now) AND u.disabled_at IS NULL
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
