import CreditsCore
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// The portal: server-rendered pages for customers, vendor operations and finance. Pages call
/// the same store operations as the API, and the same access policy (`Principal.may`) decides
/// what each visitor sees, so no rule lives here.
struct Portal: Sendable {
    let store: DeskStore
    let today: @Sendable () -> CalendarDate
    let templates: MustacheLibrary
    let signIns: SignInThrottle
    let passwordChecks: PasswordCheckQueue
    let settings: ServerSettings

    init(store: DeskStore, settings: ServerSettings) async throws {
        self.store = store
        self.today = settings.today
        self.settings = settings
        self.signIns = SignInThrottle(now: settings.now)
        self.passwordChecks = PasswordCheckQueue(runningMax: max(1, ProcessInfo.processInfo.activeProcessorCount))
        self.templates = try await PortalTemplates.load()
    }

    /// A page: the template's name, the status, and the values it shows.
    func page(_ template: String, title: String, status: HTTPResponse.Status = .ok, _ model: [String: Any]) -> Response {
        var values = model
        values["title"] = title
        values["visitor"] = Visitor.current.map(VisitorView.init)
        guard let html = templates.render(Self.withoutNils(values) as Any, withTemplate: template) else {
            preconditionFailure("portal template \(template) is missing")
        }
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        headers[.init("Content-Security-Policy")!] = "default-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'"
        headers[.init("X-Content-Type-Options")!] = "nosniff"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: html)))
    }

    /// The model without its nil values: Mustache would print an optional stored as `Any` as
    /// "nil" and treat it as true, where a missing key is false and prints nothing.
    static func withoutNils(_ value: Any) -> Any? {
        let mirror = Mirror(reflecting: value)
        if mirror.displayStyle == .optional {
            guard let wrapped = mirror.children.first?.value else { return nil }
            return withoutNils(wrapped)
        }
        switch value {
        case let dictionary as [String: Any]: return dictionary.compactMapValues(withoutNils)
        case let array as [[String: Any]]: return array.map { $0.compactMapValues(withoutNils) }
        default: return value
        }
    }

    /// A download: CSV or JSON, named so a browser saves it.
    static func download(_ text: String, contentType: String, filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.contentDisposition] = "attachment; filename=\"\(filename)\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The visitor, who must be signed in, if allowed `action`. A customer the visitor can't see
    /// doesn't exist for it (404), as in the API.
    @discardableResult
    func authorize(_ action: Principal.Action) throws -> Principal {
        guard let visitor = Visitor.current else { throw SignInRequired() }
        return try visitor.principal.authorize(action)
    }
}

struct SignInRequired: Error {}

extension Principal {
    /// The principal, if it may do `action`; otherwise the refusal the API and the portal both give.
    @discardableResult
    func authorize(_ action: Principal.Action) throws -> Principal {
        switch action {
        case .readCustomer(let id), .act(let id):
            if !sees(id) { throw Rejection(.unknownCustomer, "no customer \(id)") }
        default: break
        }
        guard may(action) else { throw Forbidden(detail: "a \(role.rawValue) may not do this") }
        return self
    }
}

enum PortalTemplates {
    /// The content type every template names in its first line (`{{% CONTENT_TYPE: HTML-SCALARS }}`).
    static let contentType = "HTML-SCALARS"

    static func load() async throws -> MustacheLibrary {
        guard let url = Bundle.module.url(forResource: "Templates", withExtension: nil) else {
            preconditionFailure("the portal's templates are missing from the CreditsServer resources")
        }
        MustacheContentTypes.register(ScalarHTMLEscaping(), named: contentType)
        return try await MustacheLibrary(directory: url.path)
    }

    static let stylesheet: String = {
        guard let url = Bundle.module.url(forResource: "portal", withExtension: "css"),
            let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("portal.css is missing from the CreditsServer resources") }
        return text
    }()
}

/// What the header shows of the signed-in visitor.
struct VisitorView {
    let name: String
    let role: String
    let csrf: String
    let isVendor: Bool
    let isOperations: Bool
    let isFinance: Bool

    init(_ visitor: Visitor) {
        name = visitor.principal.actor.name
        role = visitor.principal.role.rawValue
        csrf = visitor.csrf
        isVendor = visitor.principal.role != .customer
        isOperations = visitor.principal.may(.operate)
        isFinance = visitor.principal.may(.readDesk)
    }
}

extension Portal {
    /// Every page and form, behind the session middleware; `/v1` and the operations routes stay outside.
    func addRoutes(to router: Router<DeskRequestContext>) {
        router.get("/portal.css") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "max-age=300"],
                     body: .init(byteBuffer: ByteBuffer(string: PortalTemplates.stylesheet)))
        }
        let pages = router.group().add(middleware: PortalMiddleware(portal: self))
        addSessionRoutes(to: pages)
        addCustomerRoutes(to: pages)
        addActionRoutes(to: pages)
        addDeskRoutes(to: pages)
        // A form's address opened directly (a bookmark, Enter in the address bar) shows the page the form is on.
        for form in ["orders", "call-offs", "adjustments"] {
            pages.get("/customers/{customer}/\(form)") { _, context -> Response in
                Self.redirect(to: "/customers/\(FormData.encode(try context.parameters.require("customer")))")
            }
        }
        for run in ["expiry", "statements"] {
            pages.get("/desk/\(run)") { _, _ -> Response in Self.redirect(to: "/customers") }
        }
        // Anything else a browser asks for is the portal's 404 page; the API keeps its problem documents.
        pages.get("**") { request, _ -> Response in
            if request.uri.path.hasPrefix("/v1/") { throw HTTPError(.notFound) }
            return Self.notFoundPage(self)
        }
    }
}

/// HTML escaping by Unicode scalar. NB: swift-mustache's own escaping looks characters up by
/// grapheme, and `"` followed by a combining mark is one grapheme that is not `"`, so it went out
/// unescaped and closed an attribute (hardening L2). Each scalar is looked at on its own here.
struct ScalarHTMLEscaping: MustacheContentType {
    func escapeText(_ text: String) -> String {
        var escaped = String.UnicodeScalarView()
        escaped.reserveCapacity(text.unicodeScalars.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped.append(contentsOf: "&amp;".unicodeScalars)
            case "<": escaped.append(contentsOf: "&lt;".unicodeScalars)
            case ">": escaped.append(contentsOf: "&gt;".unicodeScalars)
            case "\"": escaped.append(contentsOf: "&quot;".unicodeScalars)
            case "'": escaped.append(contentsOf: "&#39;".unicodeScalars)
            default: escaped.append(scalar)
            }
        }
        return String(escaped)
    }
}
