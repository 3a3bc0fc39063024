import CreditsCore
import Foundation
import SQLKit

/// What `credits verify` found.
public struct VerificationReport: Sendable, Codable {
    public let entriesChecked: Int
    public let lotsChecked: Int
    public let headHash: String
    /// The first problem found, naming the entry (or lot) where the ledger stops adding up.
    public let failure: String?
    public var isClean: Bool { failure == nil }
}

extension DeskStore {
    static let verifyPageSize = 10_000

    /// Recomputes every lot's balances from the ledger alone, checks R16's bounds after every
    /// entry, the hash chain, and that the stored projections and chain head agree.
    public func verify() async throws -> VerificationReport {
        try await database.longRead { sql in
            let granted = try await Self.grantedByLot(on: sql)
            var balances: [Int: (available: Int, held: Int)] = [:]
            var prevHash = LedgerChain.genesis
            var seq = 0
            var count = 0
            func fail(_ message: String) -> VerificationReport {
                VerificationReport(entriesChecked: count, lotsChecked: granted.count, headHash: prevHash, failure: message)
            }
            while true {
                let page = try await sql.raw("""
                    SELECT * FROM ledger_entries WHERE seq > \(bind: seq) ORDER BY seq LIMIT \(bind: Self.verifyPageSize)
                    """).all()
                if page.isEmpty { break }
                for row in page {
                    let recorded: RecordedEntry
                    do { recorded = try Rows.recordedEntry(row) } catch { return fail("\(error)") }
                    if let problem = Self.check(recorded, afterSeq: seq, prevHash: prevHash, granted: granted, balances: &balances) {
                        return fail("ledger entry \(recorded.seq): \(problem)")
                    }
                    seq = recorded.seq
                    prevHash = recorded.hash
                    count += 1
                }
            }
            // A truncated ledger is named as such before the lots it leaves unexplained.
            if let problem = try await Self.checkHead(seq: seq, hash: prevHash, on: sql) { return fail(problem) }
            if let problem = try await Self.checkProjections(balances, on: sql) { return fail(problem) }
            return VerificationReport(entriesChecked: count, lotsChecked: granted.count, headHash: prevHash, failure: nil)
        }
    }

    static func grantedByLot(on sql: any SQLDatabase) async throws -> [Int: Int] {
        var granted: [Int: Int] = [:]
        for row in try await sql.raw("SELECT id, credits_granted FROM lots").all() {
            granted[try row.decode(column: "id", as: Int.self)] = try row.decode(column: "credits_granted", as: Int.self)
        }
        return granted
    }

    /// One entry: in sequence, chained, hashed right, and leaving its lot within bounds.
    static func check(
        _ recorded: RecordedEntry, afterSeq seq: Int, prevHash: String, granted: [Int: Int],
        balances: inout [Int: (available: Int, held: Int)]
    ) -> String? {
        if recorded.seq != seq + 1 { return "sequence jumps from \(seq) to \(recorded.seq) (an entry is missing)" }
        if recorded.prevHash != prevHash { return "does not chain to the entry before it" }
        let expected = LedgerChain.hash(seq: recorded.seq, entry: recorded.entry, recordedAt: recorded.recordedAt, prevHash: prevHash)
        if recorded.hash != expected { return "its contents do not match its hash (edited after it was written)" }
        let lot = recorded.entry.lot.rawValue
        guard let limit = granted[lot] else { return "names lot \(lot), which does not exist" }
        var balance = balances[lot] ?? (0, 0)
        balance.available += recorded.entry.creditsAvailableDelta
        balance.held += recorded.entry.creditsHeldDelta
        balances[lot] = balance
        if balance.available < 0 || balance.held < 0 {
            return "takes lot \(lot) below zero (available \(balance.available), held \(balance.held))"
        }
        if balance.available + balance.held > limit {
            return "puts lot \(lot) above the \(limit) credits put into it"
        }
        return nil
    }

    static func checkProjections(_ balances: [Int: (available: Int, held: Int)], on sql: any SQLDatabase) async throws -> String? {
        for row in try await sql.raw("SELECT id, credits_available, credits_held FROM lots ORDER BY id").all() {
            let id = try row.decode(column: "id", as: Int.self)
            let available = try row.decode(column: "credits_available", as: Int.self)
            let held = try row.decode(column: "credits_held", as: Int.self)
            let computed = balances[id] ?? (0, 0)
            if computed.available != available || computed.held != held {
                return "lot \(id) shows available \(available), held \(held); its entries add up to available \(computed.available), held \(computed.held)"
            }
        }
        return nil
    }

    static func checkHead(seq: Int, hash: String, on sql: any SQLDatabase) async throws -> String? {
        guard let head = try await sql.raw("SELECT seq, hash FROM ledger_head WHERE id = 1").first() else {
            return "the ledger head row is missing"
        }
        let headSeq = try head.decode(column: "seq", as: Int.self)
        let headHash = try head.decode(column: "hash", as: String.self)
        if headSeq != seq || headHash != hash {
            return "the ledger head says entry \(headSeq) is last, but the entries end at \(seq) (entries were removed or added outside the desk)"
        }
        return nil
    }
}
