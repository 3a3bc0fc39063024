import CreditsCore
import Crypto
import Foundation

/// A stored ledger entry: the core's entry plus what the store adds (sequence, time, chain).
public struct RecordedEntry: Hashable, Sendable, Codable {
    public let seq: Int
    public let entry: LedgerEntry
    /// UTC instant, ISO 8601 with milliseconds.
    public let recordedAt: String
    public let prevHash: String
    public let hash: String
}

/// The hash chain over ledger entries (tamper evidence, DESIGN.md "Ledger"): each entry's hash
/// covers its own fields and the previous entry's hash, so changing, removing or reordering any
/// stored entry breaks every hash after it.
public enum LedgerChain {
    public static let genesis = String(repeating: "0", count: 64)

    public static func hash(seq: Int, entry: LedgerEntry, recordedAt: String, prevHash: String) -> String {
        // Length-prefixed fields: no value can be crafted to look like two fields.
        let fields: [String] = [
            String(seq), entry.kind.rawValue, String(entry.lot.rawValue), entry.customer.rawValue,
            entry.program.rawValue, String(entry.creditsAvailableDelta), String(entry.creditsHeldDelta),
            entry.effectiveOn.description, recordedAt, entry.actor, entry.reason, entry.document, prevHash,
        ]
        let canonical = fields.map { "\($0.utf8.count):\($0)" }.joined(separator: "|")
        return Hex.string(SHA256.hash(data: Data(canonical.utf8)))
    }

    static let timestampFormat: Date.ISO8601FormatStyle = .iso8601
        .year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)

    public static func timestamp(_ date: Date) -> String {
        date.formatted(timestampFormat)
    }
}
