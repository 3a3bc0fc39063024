import CreditsCore
import CreditsStore
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The signed-in visitor of the request being handled, set by `PortalMiddleware`.
struct Visitor: Sendable {
    @TaskLocal static var current: Visitor?

    let principal: Principal
    let session: String

    /// The form token of this session: derived from the session secret, which only the
    /// HttpOnly cookie carries, so another site can't know it.
    var csrf: String { Self.csrfToken(for: session) }

    static func csrfToken(for secret: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("portal-form".utf8), using: SymmetricKey(data: Data(secret.utf8)))
        return Hex.string(mac)
    }
}

enum Cookies {
    static let session = "credits_session"
    /// Before sign-in there is no session: the sign-in form is protected by a random value sent
    /// both as a cookie and as a form field (a cross-site page can set neither).
    static let signIn = "credits_signin"

    static func value(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
                if parts.count == 2, parts[0] == name { return String(parts[1].prefix(200)) }
            }
        }
        return nil
    }

    static func set(_ name: String, _ value: String, maxAge: Int) -> String {
        "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; SameSite=Lax"
    }
}

/// Resolves the session cookie into the visitor, checks the CSRF token of every form post, and
/// turns errors into pages: signed-out visitors go to the sign-in page, a customer they can't
/// see is a 404 page, and a refused action is a 403 page.
struct PortalMiddleware<Context: RequestContext>: RouterMiddleware {
    let portal: Portal

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let visitor = try await Cookies.value(Cookies.session, in: request).asyncFlatMap { session in
            try await portal.store.principal(session: session).map { Visitor(principal: $0, session: session) }
        }
        var response = try await Visitor.$current.withValue(visitor) {
            do {
                return try await next(request, context)
            } catch is SignInRequired {
                let back = request.uri.path.hasPrefix("/") && request.method == .get ? request.uri.string : "/"
                return Portal.redirect(to: "/sign-in?next=" + FormData.encode(back))
            } catch {
                return portal.errorPage(for: error, logger: context.logger)
            }
        }
        // Over HTTPS every cookie is Secure, so a browser never sends the session in the clear (L6).
        if portal.settings.reachedOverHTTPS(request.headers) {
            response.headers[values: .setCookie] = response.headers[values: .setCookie].map { $0 + "; Secure" }
        }
        return response
    }
}

extension Optional {
    func asyncFlatMap<U>(_ transform: (Wrapped) async throws -> U?) async rethrows -> U? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}

extension Portal {
    func errorPage(for error: any Error, logger: Logger) -> Response {
        let (status, heading, detail): (HTTPResponse.Status, String, String) = switch error {
        case let rejection as Rejection where ProblemBody.status(of: rejection.code) == 404:
            (.notFound, "Not found", "There is no such page here.")
        case let forbidden as Forbidden:
            (.forbidden, "Not allowed", "Your role can't do this: \(forbidden.detail).")
        case let rejection as Rejection:
            (.init(code: ProblemBody.status(of: rejection.code)), "Refused", ProblemBody(rejection: rejection).detail)
        case is BadForm:
            (.badRequest, "This form has expired", "Reload the page and send the form again.")
        case let storeError as StoreError where storeError.code == .unavailable:
            (.serviceUnavailable, "The desk is unavailable", "The database doesn't answer; try again in a minute.")
        default:
            (.internalServerError, "Something went wrong", "The desk failed to show this page; it has been logged.")
        }
        if status == .internalServerError {
            logger.error("portal error", metadata: ["error": .string(String(describing: error))])
        }
        return page("error", title: heading, status: status, ["heading": heading, "detail": detail])
    }

    static func notFoundPage(_ portal: Portal) -> Response {
        portal.page("error", title: "Not found", status: .notFound, ["heading": "Not found", "detail": "There is no such page here."])
    }
}

/// A form post that isn't this session's: a missing or wrong CSRF token, or an unreadable body.
struct BadForm: Error {}

/// An `application/x-www-form-urlencoded` body, bounded: at most `fieldsMax` fields of at most
/// `valueLengthMax` characters each.
struct FormData: Sendable {
    static let fieldsMax = 50
    static let valueLengthMax = 2_000

    let fields: [String: String]
    /// The path the form was posted to: part of what its idempotency key binds (hardening L8).
    var path = ""

    subscript(name: String) -> String? {
        guard let value = fields[name]?.trimmingCharacters(in: .whitespacesAndNewlines), !value.isEmpty else { return nil }
        return value
    }

    static func read(_ request: Request, context: some RequestContext) async throws -> FormData {
        let buffer = try await request.body.collect(upTo: ErrorMapping.bodySizeMax)
        return try parse(String(buffer: buffer))
    }

    static func parse(_ body: String) throws -> FormData {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&").prefix(fieldsMax + 1) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = decode(parts[0]), let value = decode(parts.count == 2 ? parts[1] : "") else { throw BadForm() }
            // A field name is ours, never typed by a person: one with a control character is a
            // forged form (hardening L5), refused like a wrong token.
            guard value.count <= valueLengthMax, TextCheck.problem(in: name, field: "name") == nil else { throw BadForm() }
            fields[name] = value
        }
        guard fields.count <= fieldsMax else { throw BadForm() }
        return FormData(fields: fields)
    }

    static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~/")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }

    /// Fields that are a list of lines; every other field is one line of text.
    static let multilineFields: Set<String> = ["deliverables"]

    /// Refuses the form, as the rules would, if a field holds a control character (hardening H1):
    /// the refusal is shown beside the form like any other.
    func checkText() throws {
        for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
            if let problem = TextCheck.problem(in: value, field: name, allowsLineBreaks: Self.multilineFields.contains(name)) {
                throw problem
            }
        }
    }

    /// What the visitor typed: the fields without the form's own tokens.
    var typed: [String: String] { fields.filter { $0.key != "csrf" && $0.key != "key" } }

    /// The whole request in a stable order, for the idempotency hash: the path (which names the
    /// customer or engagement) and the typed fields. A key sent again to another customer's form
    /// is then a reused key, not the first answer again (hardening L8).
    var requestText: String {
        path + "\n" + typed.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: "&")
    }
}

extension Portal {
    /// The form of a signed-in visitor, after checking that its token is this session's.
    func form(_ request: Request, context: some RequestContext) async throws -> FormData {
        guard let visitor = Visitor.current else { throw SignInRequired() }
        var form = try await FormData.read(request, context: context)
        guard let token = form.fields["csrf"], Self.constantTimeEqual(token, visitor.csrf) else { throw BadForm() }
        form.path = request.uri.path
        return form
    }

    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    func addSessionRoutes(to router: RouterGroup<DeskRequestContext>) {
        router.get("/sign-in") { request, _ -> Response in
            if Visitor.current != nil { return Self.redirect(to: "/") }
            return self.signInPage(next: request.uri.queryParameters.get("next"), name: "", error: nil)
        }
        router.post("/sign-in") { request, context -> Response in
            let form = try await FormData.read(request, context: context)
            guard let sent = form.fields["csrf"], let cookie = Cookies.value(Cookies.signIn, in: request),
                Self.constantTimeEqual(sent, cookie)
            else { throw BadForm() }
            let name = form["name"] ?? ""
            do {
                try form.checkText()
            } catch let rejection as Rejection {
                // Before the throttle and bcrypt: `victim\0x` is no name at all, not a new one.
                return self.signInPage(next: form["next"], name: "", error: ProblemBody(rejection: rejection).detail,
                                       status: .badRequest)
            }
            let address = self.settings.clientAddress(request, context: context)
            if let wait = self.signIns.admit(name: name, address: address) {
                let seconds = wait.components.seconds + (wait.components.attoseconds > 0 ? 1 : 0)
                let minutes = (seconds + 59) / 60
                var response = self.signInPage(
                    next: form["next"], name: name,
                    error: "Too many failed sign-ins for this name or from this address. Try again in \(minutes) minute\(minutes == 1 ? "" : "s").",
                    status: .tooManyRequests)
                response.headers[.retryAfter] = String(seconds)
                return response
            }
            let password = form.fields["password"] ?? ""
            let checked: String?
            do {
                checked = try await self.passwordChecks.run(from: address) { try await self.store.signIn(name: name, password: password) }
            } catch is PasswordCheckQueue.Refusal {
                // Refused before any check ran, so it isn't an attempt at this name's password.
                self.signIns.notChecked(name: name, address: address)
                var response = self.signInPage(next: form["next"], name: name, error: "Too many sign-ins are being checked right now. Try again in a moment.",
                                               status: .tooManyRequests)
                response.headers[.retryAfter] = "1"
                return response
            }
            guard let session = checked else {
                return self.signInPage(next: form["next"], name: name, error: "That name and password don't match an account.",
                                       status: .unauthorized)
            }
            self.signIns.succeeded(name: name, address: address)
            var response = Self.redirect(to: Self.safeNext(form["next"]))
            response.headers[values: .setCookie] = [
                Cookies.set(Cookies.session, session, maxAge: DeskStore.sessionLifetimeSeconds),
                Cookies.set(Cookies.signIn, "", maxAge: 0),
            ]
            return response
        }
        router.post("/sign-out") { request, context -> Response in
            _ = try await self.form(request, context: context)
            if let visitor = Visitor.current { try await self.store.signOut(session: visitor.session) }
            var response = Self.redirect(to: "/sign-in")
            response.headers[.setCookie] = Cookies.set(Cookies.session, "", maxAge: 0)
            return response
        }
    }

    func signInPage(next: String?, name: String, error: String?, status: HTTPResponse.Status = .ok) -> Response {
        let token = Visitor.csrfToken(for: UUID().uuidString + UUID().uuidString)
        var response = page("sign-in", title: "Sign in", status: status, [
            "next": Self.safeNext(next), "name": name, "error": error as Any, "csrf": token,
        ])
        response.headers[.setCookie] = Cookies.set(Cookies.signIn, token, maxAge: 3600)
        return response
    }

    /// Only an absolute path of this site, never another origin (no open redirect). NB: browsers
    /// drop tabs and line breaks from a Location, so `/\t/evil.example` would become
    /// `//evil.example` (hardening L1): any control character, space or backslash is refused.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.utf8.count <= 500, next.hasPrefix("/"), !next.hasPrefix("//") else { return "/" }
        let plain = next.unicodeScalars.allSatisfy { scalar in
            scalar.value > 0x20 && scalar.value < 0x7F && scalar != "\\"
        }
        return plain ? next : "/"
    }
}
