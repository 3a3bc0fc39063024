/// A typed identifier: a `Lot.ID` can't be passed where an `Engagement.ID` is expected.
///
/// Records that people name (programs, entities, customers, offerings) use short codes;
/// records the desk creates (orders, lots, engagements) use sequence numbers the store hands out.
public struct Identifier<Owner, RawValue: Hashable & Sendable & Codable & Comparable>:
    Hashable, Sendable, Codable, Comparable, CustomStringConvertible
{
    public let rawValue: RawValue
    public init(_ rawValue: RawValue) { self.rawValue = rawValue }

    public init(from decoder: any Decoder) throws {
        rawValue = try decoder.singleValueContainer().decode(RawValue.self)
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public var description: String { "\(rawValue)" }
}

extension Identifier: ExpressibleByStringLiteral, ExpressibleByUnicodeScalarLiteral,
    ExpressibleByExtendedGraphemeClusterLiteral
where RawValue == String {
    public init(stringLiteral value: String) { self.init(value) }
}

extension Identifier: ExpressibleByIntegerLiteral where RawValue == Int {
    public init(integerLiteral value: Int) { self.init(value) }
}
