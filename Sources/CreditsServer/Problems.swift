import CreditsCore
import CreditsStore
import Foundation

/// Problem types the HTTP layer adds to the core's rejection codes: conditions of the request
/// itself, not of the rules.
enum HTTPProblem: String {
    case invalidRequest = "invalid-request"
    case unauthorized = "unauthorized"
    case forbidden = "forbidden"
    case notFound = "not-found"
    case payloadTooLarge = "payload-too-large"
    case methodNotAllowed = "method-not-allowed"
    case notAcceptable = "not-acceptable"
    case requestTimeout = "request-timeout"
    case unavailable = "database-unavailable"
    case internalError = "internal-error"
}

/// An RFC 9457 problem document. `type` is the stable code clients switch on.
struct ProblemBody: Codable, Sendable {
    let type: String
    let title: String
    let status: Int
    let detail: String
    var rule: String?
    var retryable: Bool?

    init(rejection: Rejection) {
        self.type = rejection.code.rawValue
        self.title = Self.title(of: rejection.code.rawValue)
        self.status = Self.status(of: rejection.code)
        self.detail = rejection.code.rule.map { "\($0): \(rejection.detail)" } ?? rejection.detail
        self.rule = rejection.code.rule
        self.retryable = rejection.code.mayPassLater
    }

    init(_ problem: HTTPProblem, status: Int, detail: String) {
        self.type = problem.rawValue
        self.title = Self.title(of: problem.rawValue)
        self.status = status
        self.detail = detail
    }

    static func title(of code: String) -> String {
        let words = code.split(separator: "-").joined(separator: " ")
        return words.prefix(1).uppercased() + words.dropFirst()
    }

    /// 404 for what doesn't exist, 409 for conflicts with what does, 400 for text that can't be
    /// read, 422 for requests the rules refuse.
    static func status(of code: RejectionCode) -> Int {
        switch code {
        case .unknownProgram, .unknownEntity, .unknownCustomer, .unknownOffering, .unknownLot, .unknownEngagement, .unknownToken, .unknownUser, .noStatement: 404
        case .alreadyExists, .duplicatePurchaseOrder, .ownToken: 409
        case .notPermitted: 403
        case .invalidInput, .invalidText, .invalidDate: 400
        default: 422
        }
    }

    var json: String { Wire.json(self) }
}

/// Moving values between the core's types and the generated API types. Both encode to the same
/// JSON (the spec was written from the core's names), so a value crosses by encoding and
/// decoding; a mismatch is a bug the API tests catch.
enum Wire {
    static func json(_ value: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        } catch {
            preconditionFailure("encoding \(type(of: value)) failed: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from json: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(json.utf8))
    }

    static func convert<T: Decodable>(_ value: some Encodable, to type: T.Type = T.self) throws -> T {
        try decode(type, from: json(value))
    }

    /// An enumeration's case as the other side's case of the same name: what `convert` does for
    /// it, without an encoder and a decoder for one word.
    static func sameCase<T: RawRepresentable<String>, U: RawRepresentable<String>>(_ value: T, as type: U.Type = U.self) throws -> U {
        guard let converted = U(rawValue: value.rawValue) else { throw WireMismatch(type: "\(U.self)", value: value.rawValue) }
        return converted
    }
}

/// An engagement as the API shows it: its fields and whether it is overdue (R13).
struct EngagementBody: Encodable {
    let engagement: Engagement
    let overdue: Bool

    enum CodingKeys: String, CodingKey { case overdue }

    func encode(to encoder: any Encoder) throws {
        try engagement.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(overdue, forKey: .overdue)
    }
}

struct LedgerEntryBody: Encodable {
    let recorded: RecordedEntry

    enum CodingKeys: String, CodingKey { case seq, recordedAt, hash }

    func encode(to encoder: any Encoder) throws {
        try recorded.entry.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(recorded.seq, forKey: .seq)
        try container.encode(recorded.recordedAt, forKey: .recordedAt)
        try container.encode(recorded.hash, forKey: .hash)
    }
}

extension EngagementBody {
    /// The API's engagement, built field by field. A call-off is the hottest write, and crossing
    /// by JSON (`Wire.convert`) cost it an encode and a decode; `WireTests` checks both agree.
    var schema: Components.Schemas.Engagement {
        get throws {
            let kind: Components.Schemas.EngagementKind = try Wire.sameCase(engagement.kind)
            let status: Components.Schemas.Engagement.StatusPayload = try Wire.sameCase(engagement.status)
            return Components.Schemas.Engagement(
                id: engagement.id.rawValue, customer: engagement.customer.rawValue, program: engagement.program.rawValue,
                purchaseOrder: engagement.purchaseOrder, sowReference: engagement.sowReference,
                sowSignedOn: engagement.sowSignedOn.description, offering: engagement.offering?.rawValue,
                title: engagement.title, kind: kind, deliverables: engagement.deliverables, credits: engagement.credits,
                calledOffOn: engagement.calledOffOn.description, plannedEndOn: engagement.plannedEndOn.description,
                status: status, statusChangedOn: engagement.statusChangedOn.description,
                draws: engagement.draws.map { .init(lot: $0.lot.rawValue, credits: $0.credits) }, overdue: overdue)
        }
    }
}

/// A core value the API's types have no case for: a bug, caught by the tests.
struct WireMismatch: Error {
    let type: String
    let value: String
}
