import CreditsStore
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import SQLKit
import Testing

/// The `credits` executable, run as a user would: a real process on a real SQLite file.
struct CLI {
    let database: String

    /// The built executable sits beside the test bundle in SwiftPM's build folder.
    static let executable: URL = {
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("credits"),
            Bundle.main.bundleURL.appendingPathComponent("credits"),
            Bundle.main.bundleURL.deletingLastPathComponent().appendingPathComponent("credits"),
            URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
                .deletingLastPathComponent().appendingPathComponent(".build/debug/credits"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates.last!
    }()

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    @discardableResult
    func run(_ arguments: [String], asOf: String? = "2026-11-29") throws -> Run {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = arguments + ["--database", database] + (asOf.map { ["--as-of", $0] } ?? [])
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }

    /// Starts `credits serve` on a free port, asks for `path` once, stops the server with
    /// SIGTERM and gives back what it wrote to standard error.
    func serveOnce(_ extra: [String], path: String = "/health") async throws -> (status: Int, stderr: String) {
        let process = Process()
        process.executableURL = Self.executable
        process.arguments = ["serve", "--port", "0", "--database", database] + extra
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let said = await Self.banner(of: out.fileHandleForReading, within: .seconds(120))
        out.fileHandleForReading.readabilityHandler = nil
        guard let address = said?.firstMatch(of: /listening on (http:\/\/127\.0\.0\.1:\d+)/)?.1 else {
            process.terminate()
            process.waitUntilExit()
            Issue.record("the server printed no address within the bound: \(said ?? "nothing")")
            return (0, String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self))
        }
        let (_, response) = try await URLSession.shared.data(from: URL(string: "\(address)\(path)")!)
        process.terminate()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return ((response as? HTTPURLResponse)?.statusCode ?? 0, String(decoding: stderr, as: UTF8.self))
    }

    /// What the server printed up to its banner's last line, read as it comes, or nil if it
    /// closed its output or did not get there within `bound`: a server that hangs fails the test
    /// instead of hanging it (and CI). The bound only ends a stuck run; nothing waits for it.
    static func banner(of output: FileHandle, within bound: Duration) async -> String? {
        let chunks = AsyncStream<String> { continuation in
            output.readabilityHandler = { handle in
                let data = handle.availableData
                if data.isEmpty { continuation.finish() } else { continuation.yield(String(decoding: data, as: UTF8.self)) }
            }
        }
        return await withTaskGroup(of: String?.self) { group in
            group.addTask {
                var said = ""
                for await chunk in chunks {
                    said += chunk
                    if said.contains("/openapi.yaml") { return said }
                }
                return nil
            }
            group.addTask {
                try? await Task.sleep(for: bound)
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
    }

    static func withFolder(_ body: (URL) async throws -> Void) async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("credits-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try await body(folder)
    }
}

@Suite("The credits command line")
struct CLITests {
    @Test("demo then verify exits 0; a ledger row edited by hand makes verify fail naming it")
    func demoVerifyAndTamper() async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("demo.sqlite").path)
            let demo = try cli.run(["demo"])
            #expect(demo.status == 0, "\(demo.stderr)")
            #expect(demo.stdout.contains("20 customers"))
            let verify = try cli.run(["verify"])
            #expect(verify.status == 0 && verify.stdout.hasPrefix("verify: ok"), "\(verify.stdout)\(verify.stderr)")
            // Edit one entry the way someone with the file and sqlite3 would.
            let database = try await DeskDatabase.open(path: cli.database)
            do {
                try await database.write { sql in
                    try await sql.raw("DROP TRIGGER ledger_entries_no_update").run()
                    try await sql.raw("UPDATE ledger_entries SET credits_available_delta = 60 WHERE seq = 7 AND kind = 'purchase'").run()
                    try await sql.raw("UPDATE ledger_entries SET actor = 'mallory' WHERE seq = 7 AND kind <> 'purchase'").run()
                }
            } catch {
                await database.close()
                throw error
            }
            await database.close()
            let tampered = try cli.run(["verify"])
            #expect(tampered.status == 1)
            #expect(tampered.stdout.contains("FAILED at ledger entry 7:"), "\(tampered.stdout)")
        }
    }

    /// Each row: a command line that the rules or the parser must refuse, and the code it names.
    static let badInputs: [([String], String)] = [
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01", "--title", "T",
          "--deliverable", "D", "--credits", "2.5", "--planned-end", "2027-01-01"], "fractional-credits (R11)"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01", "--title", "T",
          "--deliverable", "D", "--credits", "-5", "--planned-end", "2027-01-01"], "invalid-credits"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01", "--title", "T",
          "--deliverable", "D", "--credits", "4", "--planned-end", "2027-01-01"], "minimum-call-off (R10)"),
        (["call-off", "--customer", "acme", "--sow", "S", "--sow-signed", "2026-11-01", "--offering", "net-assess",
          "--planned-end", "2027-01-01"], "missing-po (R1)"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow-signed", "2026-11-01", "--offering", "net-assess",
          "--planned-end", "2027-01-01"], "missing-sow (R9)"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--offering", "net-assess",
          "--planned-end", "2027-01-01"], "missing-sow (R9)"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01",
          "--offering", "resident-eng", "--planned-end", "2027-01-01"], "duration-based-engagement (R8)"),
        (["call-off", "--customer", "delta", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01",
          "--offering", "wan-migrate", "--planned-end", "2027-01-01"], "not-deliverable-in-entity (R2)"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01",
          "--offering", "net-assess", "--planned-end", "2027-02-30"], "invalid-date"),
        (["call-off", "--customer", "nobody", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01",
          "--offering", "net-assess", "--planned-end", "2027-01-01"], "unknown-customer"),
        (["call-off", "--customer", "acme", "--po", "P", "--sow", "S", "--sow-signed", "2026-11-01", "--title", "T",
          "--deliverable", "D", "--credits", "5000", "--planned-end", "2027-01-01"], "insufficient-credits (R12)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--po", "NEW", "--block", "10x0"], "invalid-input"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--po", "NEW", "--block", "5x2"], "invalid-block-size (R3)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--po", "NEW", "--block", "1x9"], "minimum-order (R4)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-DE", "--po", "NEW", "--block", "10x1"], "wrong-entity (R2)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--po", "NEW", "--block", "10x1", "--discount", "10"], "discount-not-allowed (R5)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--block", "10x1"], "missing-po (R1)"),
        (["order", "place", "--customer", "acme", "--entity", "JN-US", "--po", "NEW", "--block", "2.5x4"], "fractional-credits (R11)"),
        (["engagement", "deliver", "99999"], "unknown-engagement"),
        (["engagement", "start", "abc"], "invalid-input"),
        (["adjust", "--customer", "acme", "--lot", "1", "--credits", "-1"], "missing-reason (R17)"),
        (["adjust", "--customer", "acme", "--lot", "1", "--credits", "0.5", "--reason", "x"], "fractional-credits (R11)"),
        (["adjust", "--customer", "acme", "--lot", "1", "--credits", "-100000", "--reason", "x"], "adjustment-exceeds-balance (R17)"),
        (["balance", "nobody"], "unknown-customer"),
        (["expiring", "--within", "-1"], "invalid-input"),
        (["statement", "acme", "--quarter", "2026Q5"], "invalid-input"),
        (["statement", "acme", "--quarter", "2027Q1"], "quarter-not-started (R14)"),
        (["customer", "add", "--code", "bad code", "--name", "X", "--entity", "JN-US"], "invalid-input"),
        (["customer", "add", "--code", "acme", "--name", "X", "--entity", "JN-US"], "already-exists"),
        (["entity", "add", "--code", "X", "--name", "X", "--currency", "euro"], "invalid-input"),
    ]

    @Test("bad input prints one line naming the rule, exits 3, and changes nothing")
    func badInputChangesNothing() async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("desk.sqlite").path)
            #expect(try cli.run(["demo"]).status == 0)
            let before = try cli.run(["ledger", "--json", "--limit", "10000"]).stdout + (try cli.run(["customer", "list", "--json"]).stdout)
            for (arguments, code) in Self.badInputs {
                let run = try cli.run(arguments)
                let lines = run.stderr.split(separator: "\n")
                #expect(run.status == 3, "\(arguments): exit \(run.status) \(run.stderr)")
                #expect(lines.count == 1 && lines.first?.hasPrefix("error: \(code)") == true, "\(arguments): \(run.stderr)")
                #expect(run.stdout.isEmpty)
            }
            let after = try cli.run(["ledger", "--json", "--limit", "10000"]).stdout + (try cli.run(["customer", "list", "--json"]).stdout)
            #expect(after == before)
            #expect(try cli.run(["verify"]).status == 0)
        }
    }

    @Test("a walk through the desk: entity, customer, offering, order, call-off, delivery, statement")
    func walkThrough() async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("desk.sqlite").path)
            let steps: [[String]] = [
                ["migrate"],
                ["entity", "add", "--code", "JN-FR", "--name", "Vendor SAS", "--currency", "EUR", "--price", "PSC=150000@2026-01-01"],
                ["customer", "add", "--code", "bleu", "--name", "Bleu Telecom", "--entity", "JN-FR"],
                ["offering", "add", "--code", "assess", "--name", "Assessment", "--kind", "assessment", "--credits", "10",
                 "--deliverable", "Report", "--entity", "JN-FR"],
            ]
            for step in steps { #expect(try cli.run(step).status == 0, "\(step)") }
            let order = try cli.run(["order", "place", "--customer", "bleu", "--entity", "JN-FR", "--po", "PO-1",
                                     "--block", "10x2", "--block", "1x5", "--json"], asOf: "2026-02-10")
            #expect(order.status == 0 && order.stdout.contains("\"amountMinor\" : 3750000"), "\(order.stdout)")
            let callOff = try cli.run(["call-off", "--customer", "bleu", "--po", "PO-2", "--sow", "SOW-2",
                                       "--sow-signed", "2026-02-11", "--offering", "assess", "--planned-end", "2026-03-20"],
                                      asOf: "2026-02-12")
            #expect(callOff.status == 0 && callOff.stdout.hasPrefix("engagement 1: 10 PSC credits held"), "\(callOff.stdout)\(callOff.stderr)")
            #expect(try cli.run(["engagement", "start", "1"], asOf: "2026-02-20").status == 0)
            #expect(try cli.run(["engagement", "deliver", "1"], asOf: "2026-03-18").status == 0)
            let balance = try cli.run(["balance", "bleu"], asOf: "2026-03-18")
            #expect(balance.stdout.contains("PSC: 15 available, 0 held"), "\(balance.stdout)")
            let json1 = try cli.run(["statement", "bleu", "--quarter", "2026Q1", "--format", "json"], asOf: "2026-04-01")
            let json2 = try cli.run(["statement", "bleu", "--quarter", "2026Q1", "--format", "json"], asOf: "2026-10-01")
            #expect(json1.status == 0 && json1.stdout == json2.stdout && json1.stdout.contains("\"closingBalance\" : 15"))
            let run = try cli.run(["statement", "issue", "--quarter", "2026Q2"], asOf: "2026-07-01")
            #expect(run.stdout.contains("2026Q2: 1 statements issued, 0 already issued"), "\(run.stdout)\(run.stderr)")
            #expect(run.stderr.contains("1/1 customers"))
            let again = try cli.run(["statement", "issue", "--quarter", "2026Q2"], asOf: "2026-07-02")
            #expect(again.stdout.contains("2026Q2: 0 statements issued, 1 already issued"))
            let csv = try cli.run(["statement", "bleu", "--quarter", "2026Q1", "--format", "csv"], asOf: "2026-10-01")
            #expect(csv.stdout.contains("summary,PSC,closing_balance,2026-03-31,,15,"), "\(csv.stdout)")
            let expiring = try cli.run(["expiring", "--within", "30"], asOf: "2027-01-20")
            #expect(expiring.stdout.contains("2027-02-10 (21 days)  bleu  PSC  lot 1  15 credits"), "\(expiring.stdout)")
            let expire = try cli.run(["expire"], asOf: "2027-02-10")
            #expect(expire.stdout.contains("expired 15 credits in 1 lots"))
            #expect(try cli.run(["expire"], asOf: "2027-02-10").stdout.contains("expired 0 credits in 0 lots"))
        }
    }

    @Test("serve logs a line per request at --log-level info, none at warning; an unknown level is refused before serving")
    func logLevels() async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("log.sqlite").path)
            #expect(try cli.run(["migrate"]).status == 0)
            for (level, requestLines) in [("info", 1), ("warning", 0)] {
                let served = try await cli.serveOnce(["--log-level", level])
                #expect(served.status == 200)
                let lines = served.stderr.split(separator: "\n").filter { $0.contains(#""message":"request""#) }
                #expect(lines.count == requestLines, "--log-level \(level): \(served.stderr)")
            }
            let refused = try cli.run(["serve", "--port", "0", "--log-level", "loud"], asOf: nil)
            #expect(refused.status != 0)
            #expect(refused.stderr.contains("--log-level 'loud' is not one of trace, debug, info, notice, warning, error, critical"))
        }
    }

    @Test("every command has --help", arguments: [
        [], ["migrate"], ["program", "list"], ["entity", "add"], ["entity", "list"], ["customer", "add"], ["customer", "show"],
        ["offering", "add"], ["order", "place"], ["call-off"], ["engagement", "cancel"], ["expire"], ["balance"],
        ["expiring"], ["statement"], ["statement", "issue"], ["adjust"], ["ledger"], ["verify"], ["demo"], ["serve"],
        ["token", "create"], ["token", "list"], ["token", "revoke"], ["user", "create"], ["user", "list"], ["user", "disable"],
        ["user", "delete"], ["user", "reset-password"], ["migrate-data"],
    ])
    func help(command: [String]) throws {
        let process = Process()
        process.executableURL = CLI.executable
        process.arguments = command + ["--help"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(text.contains("USAGE:"))
    }
}

@Suite("The command line's edges")
struct CLIEdgeTests {
    /// Every C0 control character and DEL. NB: not NUL, which no process can pass in an argument:
    /// the operating system ends the argument there.
    static let controls = (0x01..<0x20).map { String(UnicodeScalar(UInt8($0))) } + ["\u{7F}"]

    @Test("H1: an argument with a control character exits 64 and writes nothing", arguments: controls)
    func h1ControlCharacters(character: String) async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("desk.sqlite").path)
            #expect(try cli.run(["migrate"]).status == 0)
            let refused = try cli.run(["customer", "add", "--code", "zz\(character)x", "--name", "Zed", "--entity", "JN-US"])
            #expect(refused.status == 64, "\(refused.stderr)")
            #expect(refused.stderr.contains("invalid-text"))
            let list = try cli.run(["customer", "list", "--json"])
            #expect(!list.stdout.contains("zz"))
        }
    }

    /// The check is on every argument before parsing, so each command refuses in any option.
    @Test("H1: every command refuses a control character in its text options with 64", arguments: [
        ["entity", "add", "--code", "E-1", "--name", "Vendor\u{7}", "--currency", "EUR"],
        ["offering", "add", "--code", "o", "--name", "O", "--kind", "design", "--credits", "10", "--deliverable", "D\u{1}", "--entity", "E"],
        ["order", "place", "--customer", "acme", "--entity", "JN-DE", "--po", "PO\u{2}1", "--block", "10x1"],
        ["call-off", "--customer", "acme", "--po", "PO-1", "--sow", "SOW\u{1B}", "--sow-signed", "2026-03-01", "--offering", "o", "--planned-end", "2026-06-30"],
        ["adjust", "--customer", "acme", "--lot", "1", "--credits", "-1", "--reason", "oops\u{8}"],
        ["engagement", "cancel", "1", "--reason", "stop\u{7F}"],
        ["statement", "acme", "--quarter", "2026Q1\u{9}"],
        ["token", "create", "--name", "ro\u{3}bot", "--role", "finance"],
        ["customer", "show", "acme\u{1F}x"],
    ])
    func h1EveryCommand(arguments: [String]) async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("desk.sqlite").path)
            #expect(try cli.run(["migrate"]).status == 0)
            let refused = try cli.run(arguments)
            #expect(refused.status == 64, "\(arguments): \(refused.stderr)")
            #expect(try cli.run(["verify"]).status == 0)
        }
    }

    @Test("a read command on a desk that doesn't exist exits 4 and creates no file")
    func missingDesk() async throws {
        try await CLI.withFolder { folder in
            let path = folder.appendingPathComponent("mistyped.sqlite").path
            let run = try CLI(database: path).run(["customer", "list"])
            #expect(run.status == 4)
            #expect(run.stderr.contains("there is no desk at"))
            #expect(!FileManager.default.fileExists(atPath: path))
        }
    }
}

@Suite("Revocation on the command line")
struct CLIRevocationTests {
    @Test("L4: token create --expires-on, list and revoke; user disable and reset-password")
    func l4TokensAndUsers() async throws {
        try await CLI.withFolder { folder in
            let cli = CLI(database: folder.appendingPathComponent("desk.sqlite").path)
            #expect(try cli.run(["migrate"]).status == 0)
            let created = try cli.run(["token", "create", "--name", "robot", "--role", "metrics", "--expires-on", "2099-01-01"], asOf: nil)
            #expect(created.status == 0, "\(created.stderr)")
            let id = try #require(created.stdout.firstMatch(of: /token ([0-9a-f]{12}) for robot/)?.1)
            let list = try cli.run(["token", "list"], asOf: nil)
            #expect(list.stdout.contains("\(id)  robot  metrics") && list.stdout.contains("until 2099-01-01"))
            #expect(!list.stdout.contains(created.stdout.split(separator: "\n")[0]), "the secret is never listed")
            #expect(try cli.run(["token", "revoke", String(id)], asOf: nil).stdout.contains("revoked"))
            #expect(try cli.run(["token", "list"], asOf: nil).stdout.contains("revoked"))
            #expect(try cli.run(["token", "revoke", "ffffffffffff"], asOf: nil).status == 3, "an unknown id is refused")
            #expect(try cli.run(["user", "disable", "nobody"], asOf: nil).stderr.contains("unknown-user"))
        }
    }
}
