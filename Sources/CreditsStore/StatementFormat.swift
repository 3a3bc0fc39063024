import CreditsCore
import Foundation

/// The three shapes of a statement. JSON is the stored form; CSV and text are rendered from the
/// decoded JSON, so all three stay the same for an issued statement whenever they are read.
public enum StatementFormat {
    public static func json(_ statement: Statement) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(statement), as: UTF8.self) + "\n"
    }

    public static func decode(_ json: String) -> Statement? {
        try? JSONDecoder().decode(Statement.self, from: Data(json.utf8))
    }

    /// One table: a `summary` row per program, then its lots and call-offs.
    public static func csv(_ statement: Statement) -> String {
        var lines = ["section,program,item,date,expires_on,credits,detail"]
        for section in statement.programs {
            let p = section.program.rawValue
            let figures: [(String, Int)] = [
                ("opening_balance", section.openingBalance), ("purchased", section.purchased),
                ("called_off", section.calledOff), ("returned", section.returned), ("expired", section.expired),
                ("adjusted", section.adjusted), ("closing_balance", section.closingBalance),
                ("delivered", section.delivered), ("held_at_close", section.heldAtClose),
                ("expiring_next_quarter", section.expiringNextQuarter),
            ]
            for (name, value) in figures {
                lines.append(row(["summary", p, name, statement.periodEndsOn.description, "", String(value), ""]))
            }
            for lot in section.lots {
                lines.append(row(["lot", p, "lot \(lot.lot)", lot.purchasedOn.description, lot.expiresOn.description,
                                  String(lot.creditsRemaining), "\(lot.source.rawValue), \(lot.creditsGranted) granted"]))
            }
            for callOff in section.callOffs {
                lines.append(row(["call-off", p, "engagement \(callOff.engagement)", callOff.calledOffOn.description, "",
                                  String(callOff.credits),
                                  "\(callOff.title); PO \(callOff.purchaseOrder); SOW \(callOff.sowReference); \(callOff.statusAtClose)"]))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func row(_ fields: [String]) -> String {
        fields.map { field in
            // A field that a spreadsheet would read as a formula is quoted and prefixed.
            var value = field
            if let first = value.first, "=+-@".contains(first), Int(value) == nil { value = "'" + value }
            if value.contains(where: { ",\"\n\r".contains($0) }) || value != field {
                return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
            }
            return value
        }.joined(separator: ",")
    }

    public static func text(_ statement: Statement) -> String {
        var out = "Statement \(statement.quarter) for \(statement.customerName) (\(statement.customer))\n"
        out += "Period \(statement.periodStartsOn) to \(statement.periodEndsOn)"
        out += statement.provisional ? " — PROVISIONAL: the quarter is in progress\n" : "\n"
        for section in statement.programs {
            out += "\n\(section.program)\n"
            let figures: [(String, Int)] = [
                ("Opening balance", section.openingBalance), ("Purchased", section.purchased),
                ("Called off", -section.calledOff), ("Returned", section.returned), ("Expired", -section.expired),
                ("Adjusted", section.adjusted), ("Closing balance", section.closingBalance),
            ]
            for (label, value) in figures { out += "  \(label.padding(toLength: 18, withPad: " ", startingAt: 0))\(pad(value))\n" }
            out += "  Held by open engagements at close: \(section.heldAtClose); delivered in quarter: \(section.delivered)\n"
            out += "  Expiring next quarter: \(section.expiringNextQuarter)\n"
            for lot in section.lots {
                out += "  lot \(lot.lot): bought \(lot.purchasedOn), expires \(lot.expiresOn), \(lot.creditsRemaining) of \(lot.creditsGranted) left\(lot.expiresNextQuarter ? "  <- expires next quarter" : "")\n"
            }
            for callOff in section.callOffs {
                out += "  call-off \(callOff.calledOffOn): \(callOff.credits) credits, \(callOff.title) (engagement \(callOff.engagement), \(callOff.statusAtClose))\n"
            }
        }
        return out
    }

    static func pad(_ value: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, 8 - text.count)) + text
    }
}
