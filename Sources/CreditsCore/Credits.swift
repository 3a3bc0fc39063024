/// Credits are whole numbers everywhere (R11). Text from a person or a client is read here, once,
/// so a fraction is refused with `fractional-credits` and never rounded.
public enum Credits {
    /// Reads a positive whole number of credits, at most `max`.
    public static func parse(
        _ text: String, field: String = "credits", max: Int = Limits.creditsPerCallOffMax
    ) -> Result<Int, Rejection> {
        switch parseSigned(text, field: field, max: max) {
        case .success(let value) where value <= 0:
            return .failure(Rejection(.invalidCredits, "\(field) must be at least 1, got \(value)"))
        case let other:
            return other
        }
    }

    /// Reads a signed whole number (adjustments are ±), not zero, of magnitude at most `max`.
    public static func parseSigned(
        _ text: String, field: String = "credits", max: Int = Limits.adjustmentCreditsMax
    ) -> Result<Int, Rejection> {
        let trimmed = text.trimmingSpaces
        if isDecimalFraction(trimmed) {
            return .failure(Rejection(.fractionalCredits, "\(field) must be whole credits, got \(trimmed)"))
        }
        guard trimmed.utf8.count <= 12, let value = Int(trimmed) else {
            return .failure(Rejection(.invalidCredits, "\(field) must be a whole number, got '\(trimmed.prefix(40))'"))
        }
        guard value != 0 else {
            return .failure(Rejection(.invalidCredits, "\(field) must not be zero"))
        }
        guard abs(value) <= max else {
            return .failure(Rejection(.invalidCredits, "\(field) must be at most \(max), got \(value)"))
        }
        return .success(value)
    }

    /// `2.5`, `-0.5`, `.5`, `10.0`: a number with a decimal part, even a zero one, is a fraction
    /// written by someone who thinks credits can be split; we say so rather than "not a number".
    static func isDecimalFraction(_ text: String) -> Bool {
        var body = Substring(text)
        if body.first == "-" || body.first == "+" { body = body.dropFirst() }
        let parts = body.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, !(parts[0].isEmpty && parts[1].isEmpty) else { return false }
        return parts.allSatisfy { $0.allSatisfy { $0.isASCII && $0.isNumber } }
    }
}

extension String {
    var trimmingSpaces: String {
        var scalars = Substring(self)
        while scalars.first?.isWhitespace == true { scalars = scalars.dropFirst() }
        while scalars.last?.isWhitespace == true { scalars = scalars.dropLast() }
        return String(scalars)
    }
}

/// Checks shared by every operation that takes free text from a person.
enum Text {
    /// A required field: present after trimming, and no longer than its bound.
    static func required(
        _ value: String?, field: String, max: Int = Limits.textLengthMax, missing: RejectionCode
    ) -> Result<String, Rejection> {
        let trimmed = (value ?? "").trimmingSpaces
        guard !trimmed.isEmpty else { return .failure(Rejection(missing, "\(field) is required")) }
        guard trimmed.count <= max else {
            return .failure(Rejection(.invalidInput, "\(field) is longer than \(max) characters"))
        }
        guard !trimmed.contains(where: { $0.isNewline || $0 == "\0" }) else {
            return .failure(Rejection(.invalidInput, "\(field) must be one line"))
        }
        return .success(trimmed)
    }

    /// A code people choose (customer, entity, offering): letters, digits, `-` `_` `.`.
    static func code(_ value: String, field: String) -> Result<String, Rejection> {
        let allowed = value.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
        guard !value.isEmpty, value.count <= Limits.codeLengthMax, allowed else {
            return .failure(Rejection(.invalidInput,
                "\(field) '\(value.prefix(40))' must be 1–\(Limits.codeLengthMax) letters, digits, '-', '_' or '.'"))
        }
        return .success(value)
    }
}
