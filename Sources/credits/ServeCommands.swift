import ArgumentParser
import CreditsCore
import CreditsServer
import CreditsStore
import Foundation
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP API (see /openapi.yaml) on the desk's database until SIGTERM or SIGINT.")
    @OptionGroup var options: DeskOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on (0 picks a free one).") var port = "8080"
    @Option(help: "Least severe log line written: trace, debug, info (a line per request), notice, warning, error or critical.")
    var logLevel = "info"
    @Option(name: .customLong("public-url"), help: ArgumentHelp(
        "The address people reach the desk at, e.g. https://credits.example.com behind a TLS proxy; https marks cookies Secure.",
        valueName: "url"))
    var publicURL: String?
    @Flag(name: .customLong("trust-proxy"), help: "Trust X-Forwarded-Proto and X-Forwarded-For from the proxy in front (set it only behind one).")
    var trustProxy = false
    @Option(name: .customLong("idle-timeout"), help: ArgumentHelp("Seconds a connection may stay open without a request (1–3600).", valueName: "s"))
    var idleTimeout = "30"
    @Option(name: .customLong("body-timeout"), help: ArgumentHelp("Seconds a request's body may take to arrive (1–3600).", valueName: "s"))
    var bodyTimeout = "30"
    @Option(name: .customLong("connections-max"), help: ArgumentHelp("Connections open at once (default: 1024, or half the open-file limit if lower).", valueName: "n"))
    var connectionsMax: String?

    func run() async throws {
        try await guarded {
            let port = try Parse.integer(port, field: "--port", range: 0...65_535)
            let pinned = try options.asOf.map { try Parse.date($0, field: "--as-of") }
            let level: Logger.Level = try Parse.enumeration(logLevel, field: "--log-level")
            let idle = try Parse.integer(idleTimeout, field: "--idle-timeout", range: 1...3_600)
            let body = try Parse.integer(bodyTimeout, field: "--body-timeout", range: 1...3_600)
            let connections = try connectionsMax.map { try Parse.integer($0, field: "--connections-max", range: 1...100_000) }
            if let publicURL, URLComponents(string: publicURL)?.host == nil || !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) {
                throw Rejection(.invalidInput, "--public-url must be an http:// or https:// address, got '\(publicURL.prefix(80))'")
            }
            LoggingSystem.bootstrap { label in
                var handler = JSONLogHandler(label: label)
                handler.logLevel = level
                return handler
            }
            try await options.withStore(creating: true) { store in
                var settings = ServerSettings(host: host, port: port, publicURL: publicURL, trustProxy: trustProxy,
                                              today: { pinned ?? Clock.systemToday() })
                settings.idleTimeout = .seconds(idle)
                settings.bodyTimeout = .seconds(body)
                if let connections { settings.connectionsMax = connections }
                let path = store.database.path
                let app = try await buildApplication(store: store, settings: settings, logger: Logger(label: "credits.server")) { bound in
                    // Written straight to the file descriptor so a script waiting for it sees it at once.
                    FileHandle.standardOutput.write(Data("""
                        credits desk listening on http://\(host):\(bound) (database \(path))
                          the API's contract: http://\(host):\(bound)/openapi.yaml
                          the portal: http://\(host):\(bound)/ (add a user: swift run credits user create --name NAME --role admin --database \(path))
                          no token yet? swift run credits token create --name admin --role admin --database \(path)
                          an empty desk? load the demo first: swift run credits demo --database \(path)

                        """.utf8))
                }
                try await app.runService()
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "API tokens: create, list, revoke.", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API token for a principal; the token is shown once and stored only as a hash.")
        @OptionGroup var options: DeskOptions
        @Option(help: "Principal name (the actor recorded on its ledger entries).") var name: String
        @Option(help: "admin, operations, account-manager, customer, finance or metrics.") var role: String
        @Option(help: "Customer it is bound to (customer) or assigned (account-manager); repeatable.") var customer: [String] = []
        @Option(name: .customLong("expires-on"), help: ArgumentHelp("The day it stops working (YYYY-MM-DD); none: until revoked.", valueName: "date"))
        var expiresOn: String?

        func run() async throws {
            try await guarded {
                let role: Actor.Role = try Parse.enumeration(role, field: "--role")
                let expiry = try expiresOn.map { try Parse.date($0, field: "--expires-on") }
                let issued = try await options.withStore {
                    try await $0.createToken(principal: name, role: role, customers: customer.map(Customer.ID.init), expiresOn: expiry)
                }
                Output.emit(issued, options: options) {
                    let until = issued.expiresOn.map { ", until \($0)" } ?? ""
                    return "\(issued.token)\n(token \(issued.id) for \(issued.principal), role \(issued.role.rawValue)\(until); shown once, keep it safe)"
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the tokens, newest first (never their secrets).")
        @OptionGroup var options: DeskOptions

        func run() async throws {
            try await guarded {
                let tokens = try await options.withStore { try await $0.tokens() }
                Output.emit(tokens, options: options) {
                    tokens.map { token in
                        let state = token.revokedAt.map { "revoked \($0)" } ?? token.expiresOn.map { "until \($0)" } ?? "active"
                        return "\(token.id)  \(token.principal)  \(token.role.rawValue)  created \(token.createdAt)  \(state)"
                    }.joined(separator: "\n")
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke a token by its id: refused at once by this desk's servers, within 30 s by those that cached it.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "The token's id, as `credits token list` shows it.") var id: String

        func run() async throws {
            try await guarded {
                let token = try await options.withStore { try await $0.revokeToken(id: id) }
                Output.emit(token, options: options) { "token \(token.id) of \(token.principal) revoked" }
            }
        }
    }
}

struct UserCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "user", abstract: "Portal users: sign in to the web pages with a name and password.",
        subcommands: [Create.self, List.self, Disable.self, Delete.self, ResetPassword.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the portal users, their roles and open sessions.")
        @OptionGroup var options: DeskOptions

        func run() async throws {
            try await guarded {
                let users = try await options.withStore { try await $0.users() }
                Output.emit(users, options: options) {
                    users.map { user in
                        let customers = user.customers.isEmpty ? "" : " (\(user.customers.map(\.rawValue).joined(separator: ", ")))"
                        let state = user.disabledAt.map { "disabled \($0)" } ?? "\(user.sessions) open session\(user.sessions == 1 ? "" : "s")"
                        return "\(user.name)  \(user.role.rawValue)\(customers)  \(state)"
                    }.joined(separator: "\n")
                }
            }
        }
    }

    /// One change to a named user, printed as one line.
    static func change(_ name: String, _ change: DeskStore.UserChange, options: DeskOptions, done: String) async throws {
        try await guarded {
            try await options.withStore { try await $0.change(user: name, change) }
            Output.emit(["user": name, "done": done], options: options) { "user \(name): \(done)" }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop a user signing in and end its sessions (a new password enables it again).")
        @OptionGroup var options: DeskOptions
        @Argument(help: "The user's name.") var name: String

        func run() async throws { try await UserCommand.change(name, .disable, options: options, done: "disabled, sessions ended") }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a portal user and end its sessions (its ledger entries keep its name).")
        @OptionGroup var options: DeskOptions
        @Argument(help: "The user's name.") var name: String

        func run() async throws { try await UserCommand.change(name, .delete, options: options, done: "deleted, sessions ended") }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password", abstract: "Set a new password for a user and end its sessions.")
        @OptionGroup var options: DeskOptions
        @Argument(help: "The user's name.") var name: String
        @Flag(help: "Read the password from the first line of standard input instead of asking for it.")
        var passwordStdin = false

        func run() async throws {
            var password = ""
            try await guarded { password = try Create.readPassword(for: name, fromStandardInput: passwordStdin) }
            try await UserCommand.change(name, .resetPassword(password), options: options, done: "new password set, sessions ended")
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a portal user (or set a new password); the password is stored only as a bcrypt hash.")
        @OptionGroup var options: DeskOptions
        @Option(help: "User name (the actor recorded on its ledger entries).") var name: String
        @Option(help: "admin, operations, account-manager, customer or finance.") var role: String
        @Option(help: "Customer it is bound to (customer) or assigned (account-manager); repeatable.") var customer: [String] = []
        @Flag(help: "Read the password from the first line of standard input instead of asking for it.")
        var passwordStdin = false

        func run() async throws {
            try await guarded {
                let role: Actor.Role = try Parse.enumeration(role, field: "--role")
                let password = try Self.readPassword(for: name, fromStandardInput: passwordStdin)
                try await options.withStore {
                    try await $0.createUser(name: name, role: role, customers: customer.map(Customer.ID.init), password: password)
                }
                Output.emit(["user": name, "role": role.rawValue], options: options) {
                    "user \(name) (\(role.rawValue)) can sign in at /sign-in"
                }
            }
        }

        static func readPassword(for name: String, fromStandardInput passwordStdin: Bool) throws -> String {
            if passwordStdin {
                guard let line = readLine(strippingNewline: true) else {
                    throw Rejection(.invalidInput, "--password-stdin: standard input is empty")
                }
                return line
            }
            // Not echoed, like passwd; scripts use --password-stdin.
            guard let typed = getpass("Password for \(name): ") else { throw Rejection(.invalidInput, "no password given") }
            return String(cString: typed)
        }
    }
}

struct MigrateData: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate-data",
        abstract: "Copy a whole SQLite desk into an empty PostgreSQL one, then verify both (same chain head).")
    @Option(help: "The SQLite desk to copy.") var from: String
    @Option(help: "The empty desk to copy into, e.g. postgres://user@host/credits.") var to: String

    func run() async throws {
        var clean = true
        try await guarded {
            let source = try await DeskDatabase.open(path: from, creating: false)
            let target: DeskDatabase
            do { target = try await DeskDatabase.open(path: to) } catch {
                await source.close()
                throw error
            }
            do {
                let counts = try await DeskCopy.copy(from: source, to: target) { table, rows in
                    FileHandle.standardError.write(Data("  \(table): \(rows) rows\n".utf8))
                }
                let before = try await DeskStore(database: source).verify()
                let after = try await DeskStore(database: target).verify()
                clean = before.isClean && after.isClean && before.headHash == after.headHash
                print("copied \(counts["ledger_entries"] ?? 0) ledger entries, \(counts["lots"] ?? 0) lots, \(counts["customers"] ?? 0) customers")
                print("source \(source.path): \(before.isClean ? "verifies" : "FAILS: \(before.failure ?? "")"), head \(before.headHash)")
                print("target \(target.path): \(after.isClean ? "verifies" : "FAILS: \(after.failure ?? "")"), head \(after.headHash)")
                print(clean ? "the two ledgers are equal" : "the ledgers differ: do not switch over")
            } catch {
                await source.close()
                await target.close()
                throw error
            }
            await source.close()
            await target.close()
        }
        if !clean { throw Exit.verificationFailed }
    }
}
