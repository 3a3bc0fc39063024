import ArgumentParser
import CreditsCore
import CreditsStore
import Foundation

@main
struct CreditsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credits",
        abstract: "The services-credits desk: prepaid Professional and Flexible Services Credits.",
        discussion: """
            Exit codes: 0 done; 1 verification found a problem; 3 the rules refused the request \
            (nothing was changed); 4 the database could not be used; 64 the command line was not understood.
            """,
        subcommands: [
            Migrate.self, ProgramCommand.self, EntityCommand.self, CustomerCommand.self, OfferingCommand.self,
            OrderCommand.self, CallOff.self, EngagementCommand.self, Expire.self, Balance.self, Expiring.self,
            StatementCommand.self, Adjust.self, Ledger.self, Verify.self, Demo.self, Serve.self, TokenCommand.self, UserCommand.self, MigrateData.self,
        ])

    /// Every argument is checked for control characters before it is parsed (hardening H1): a
    /// NUL byte in a name would otherwise reach the database, and no option of ours takes one.
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        for (index, argument) in arguments.enumerated() {
            if let problem = TextCheck.problem(in: argument, field: "argument \(index + 1)") {
                printError("error: \(problem)")
                Foundation.exit(Exit.usage.rawValue)
            }
        }
        await main(arguments)
    }
}

/// Exit codes scripts can rely on.
enum Exit {
    static let verificationFailed = ExitCode(1)
    static let rejected = ExitCode(3)
    static let storeFailed = ExitCode(4)
    /// The command line was not understood (EX_USAGE), as swift-argument-parser exits too.
    static let usage = ExitCode(64)
}

/// Runs a command's work, turning refusals and failures into one line on stderr and an exit code.
func guarded(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let rejection as Rejection {
        printError("error: \(rejection)")
        throw Exit.rejected
    } catch let error as StoreError {
        printError("error: \(error)")
        throw Exit.storeFailed
    } catch let exit as ExitCode {
        throw exit
    } catch {
        printError("error: database: \(error)")
        throw Exit.storeFailed
    }
}

func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create the database or bring its schema up to date.")
    @OptionGroup var options: DeskOptions

    func run() async throws {
        try await guarded {
            try await options.withStore(creating: true) { store in
                Output.emit(["database": store.database.path, "status": "up to date"], options: options) {
                    "\(store.database.path): schema up to date"
                }
            }
        }
    }
}

struct Verify: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Recompute every balance from the ledger and check the hash chain (exit 1 on a problem).")
    @OptionGroup var options: DeskOptions

    func run() async throws {
        var clean = true
        try await guarded {
            let report = try await options.withStore { try await $0.verify() }
            clean = report.isClean
            Output.emit(report, options: options) {
                if let failure = report.failure { return "verify: FAILED at \(failure)" }
                return "verify: ok, \(report.entriesChecked) entries, \(report.lotsChecked) lots, head \(report.headHash.prefix(16))…"
            }
        }
        if !clean { throw Exit.verificationFailed }
    }
}
