import CreditsCore
import Foundation
import NIOCore

/// The text and numbers of an API request, checked at the edge before it is routed: every path
/// segment, query value and JSON string goes through the core's `TextCheck`, and every JSON number
/// through its whole-number rule. One check over the whole request, rather than one per field,
/// so a field added to the API later is covered without being listed anywhere.
enum RequestText {
    /// The spec's bound on an Idempotency-Key, which the generated code doesn't check.
    static let idempotencyKeyLengthMax = 200

    /// The first problem of the request, if any.
    static func problem(path: String, query: String?, idempotencyKey: String?, json body: ByteBuffer?) -> Rejection? {
        if let problem = pathProblem(path) ?? query.flatMap(queryProblem) ?? idempotencyKey.flatMap(keyProblem) {
            return problem
        }
        guard let body, body.readableBytes > 0 else { return nil }
        let bytes = Array(body.readableBytesView)
        if let problem = literalProblem(in: bytes) { return problem }
        // A body that isn't JSON is left to the generated decoder, which answers 400.
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes), options: [.fragmentsAllowed]) else {
            return nil
        }
        return stringProblem(in: object, field: "body", depth: 0)
    }

    /// A key is 1 to 200 visible ASCII characters: what every HTTP hop carries unchanged (a
    /// proxy may trim spaces or re-encode other bytes, and the retry would then miss its key).
    static func keyProblem(_ key: String) -> Rejection? {
        let visible = key.utf8.allSatisfy { (0x21...0x7E).contains($0) }
        guard (1...idempotencyKeyLengthMax).contains(key.utf8.count), visible else {
            return Rejection(.invalidInput, "an Idempotency-Key is 1 to \(idempotencyKeyLengthMax) visible ASCII characters")
        }
        return nil
    }

    static func pathProblem(_ path: String) -> Rejection? {
        for segment in path.split(separator: "/") {
            guard let decoded = String(segment).removingPercentEncoding else {
                return Rejection(.invalidText, "the path holds an escape that is not UTF-8 text")
            }
            if let problem = TextCheck.problem(in: decoded, field: "the path") { return problem }
        }
        return nil
    }

    static func queryProblem(_ query: String) -> Rejection? {
        for pair in query.split(separator: "&") {
            for part in pair.split(separator: "=", maxSplits: 1) {
                guard let decoded = part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding else {
                    return Rejection(.invalidText, "the query holds an escape that is not UTF-8 text")
                }
                if let problem = TextCheck.problem(in: decoded, field: "a query parameter") { return problem }
            }
        }
        return nil
    }

    /// Bodies are at most 64 KiB, so their nesting is shallow; past this depth the decoder refuses.
    static let depthMax = 16

    static func stringProblem(in value: Any, field: String, depth: Int) -> Rejection? {
        guard depth < depthMax else { return nil }
        switch value {
        case let text as String:
            return TextCheck.problem(in: text, field: field)
        case let object as [String: Any]:
            for (key, child) in object {
                if let problem = TextCheck.problem(in: key, field: "a field name")
                    ?? stringProblem(in: child, field: key, depth: depth + 1)
                {
                    return problem
                }
            }
        case let array as [Any]:
            for child in array {
                if let problem = stringProblem(in: child, field: field, depth: depth + 1) { return problem }
            }
        default: break
        }
        return nil
    }

    /// The literals of a JSON body: no `null`, and every number whole. Every number in this API
    /// counts something whole (credits, blocks, ids, minor units), so a number must be written as one: `6.0` and `1e0` are refused by the core's R11 rule rather
    /// than read as 6 and 1 by the decoder. The scan reads the number tokens as written, which a
    /// JSON decoder no longer shows.
    static func literalProblem(in bytes: [UInt8]) -> Rejection? {
        var index = 0
        var lastString = ""
        var key = "a number"
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let end = stringEnd(bytes, from: index + 1)
                lastString = String(decoding: bytes[(index + 1)..<min(end, bytes.count)], as: UTF8.self)
                index = end + 1
            } else if byte == UInt8(ascii: "n"), bytes[index...].starts(with: "null".utf8) {
                // No field of the API takes null: an absent value is left out (the decoder would
                // read null as absent, and a client's null would silently mean "not given").
                return Rejection(.invalidInput, "\(key.prefix(60)) is null; leave a field out instead of sending null")
            } else if byte == UInt8(ascii: ":") {
                key = lastString
                index += 1
            } else if byte == UInt8(ascii: "-") || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) {
                var end = index
                while end < bytes.count, isNumberByte(bytes[end]) { end += 1 }
                let literal = String(decoding: bytes[index..<end], as: UTF8.self)
                if let problem = Credits.wholeNumberProblem(literal: literal, field: key) { return problem }
                index = end
            } else {
                index += 1
            }
        }
        return nil
    }

    /// The index of the quote that closes the string opened before `start`.
    static func stringEnd(_ bytes: [UInt8], from start: Int) -> Int {
        var index = start
        while index < bytes.count {
            switch bytes[index] {
            case UInt8(ascii: "\\"): index += 2
            case UInt8(ascii: "\""): return index
            default: index += 1
            }
        }
        return bytes.count
    }

    static func isNumberByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "+-.eE".utf8.contains(byte)
    }
}
