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

    /// A number as a client wrote it (a JSON literal): R11 wants credits written whole, so `6.0`
    /// and `1e0` are refused like `6.5`, even though they happen to equal whole numbers. Nil when
    /// `literal` is an optional minus and digits.
    public static func wholeNumberProblem(literal: String, field: String) -> Rejection? {
        var digits = Substring(literal)
        if digits.first == "-" { digits = digits.dropFirst() }
        if !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }) { return nil }
        return Rejection(.fractionalCredits, "\(field.prefix(60)) must be a whole number written without a decimal point or exponent, got \(literal.prefix(40))")
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
        if let problem = TextCheck.problem(in: trimmed, field: field) { return .failure(problem) }
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

/// What text may hold when it comes from outside: no control characters (C0, DEL, C1). A NUL byte
/// once ended a name early in the database, so `victim\0x` signed in as `victim` (hardening H1);
/// other controls forge log lines, headers and CSV cells. Every edge (API, portal forms, the
/// command line) refuses such text with `invalid-text` before anything is looked up or written,
/// and the operations check their own text fields here again.
public enum TextCheck {
    /// The longest text any field of a request may carry, whatever its own, smaller bound.
    public static let lengthMax = 2_000

    /// A refusal naming `field` if `value` holds a control character (line breaks only where
    /// `allowsLineBreaks`, for a field that is a list of lines) or is longer than `lengthMax`.
    public static func problem(in value: String, field: String, allowsLineBreaks: Bool = false) -> Rejection? {
        var count = 0
        for scalar in value.unicodeScalars {
            count += 1
            if count > lengthMax {
                return Rejection(.invalidText, "\(field.prefix(60)) is longer than \(lengthMax) characters")
            }
            if isControl(scalar), !(allowsLineBreaks && (scalar == "\n" || scalar == "\r")) {
                let code = String(scalar.value, radix: 16, uppercase: true)
                return Rejection(.invalidText,
                    "\(field.prefix(60)) holds the control character U+\(String(repeating: "0", count: max(0, 4 - code.count)) + code); use plain text")
            }
        }
        return nil
    }

    /// A code people choose (customer, entity, offering), as it arrives where the edge reads it
    /// itself (a query parameter): nil if it is one, else the refusal.
    public static func codeProblem(in value: String, field: String) -> Rejection? {
        if case .failure(let rejection) = Text.code(value, field: field) { return rejection }
        return nil
    }

    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }
}
