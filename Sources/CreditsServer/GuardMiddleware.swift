import CreditsCore
import CreditsStore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import OpenAPIRuntime

/// Every request, whatever happens to it, ends as a response: every error becomes a problem
/// document (STACK.md trap 2), and every answer is logged and counted. A 500 is reserved for
/// bugs and is logged as an error.
struct GuardMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: DeskMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let requestID = request.headers[.init("X-Request-Id")!].map { String($0.prefix(64)) } ?? Self.newRequestID()
        var logger = context.logger
        logger[metadataKey: "request_id"] = .string(requestID)
        var response: Response
        do {
            response = try await next(request, context)
        } catch let unreadable as UnreadableBody {
            response = ProblemResponse.make(ErrorMapping.unreadableBody(unreadable.cause))
        } catch {
            response = ProblemResponse.make(ErrorMapping.problem(for: error, logger: logger))
        }
        if response.status == .notFound, request.uri.path.hasPrefix("/v1/") {
            response = Self.methodNotAllowed(request) ?? response
        }
        response.headers[.init("X-Request-Id")!] = requestID
        // Answers are per caller (balances, statements, downloads): no shared cache keeps them,
        // and no browser guesses another type than the one sent (hardening L6).
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        // A full queue or a database away: come back shortly (clients and proxies read this).
        if response.status == .serviceUnavailable, response.headers[.retryAfter] == nil { response.headers[.retryAfter] = "1" }
        let route = context.endpointPath ?? "unmatched"
        let duration = ContinuousClock.now - started
        metrics.record(method: request.method.rawValue, route: route, status: Int(response.status.code), duration: duration)
        logger.log(level: Self.logLevel(status: Int(response.status.code)), "request", metadata: [
            "method": .string(request.method.rawValue), "path": .string(request.uri.path),
            "route": .string(route), "status": .stringConvertible(response.status.code),
            "duration_ms": .stringConvertible(duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000),
        ])
        return response
    }
}

/// The body of a request, read after authentication (so an anonymous client can't make the
/// server hold 64 KiB for it): bounded in size and in time, then the request's text and numbers
/// are checked (`RequestText`) before any route sees them (hardening M3, H1, X5).
struct RequestBodyMiddleware<Context: RequestContext>: RouterMiddleware {
    let bodyTimeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var request = request
        let body = try await Self.collect(request.body, within: bodyTimeout)
        request.body = .init(buffer: body)
        let json = Self.isForm(request) ? nil : body
        if let problem = RequestText.problem(path: request.uri.path, query: request.uri.query,
                                             idempotencyKey: request.headers[.init("Idempotency-Key")!], json: json) {
            return ProblemResponse.make(ProblemBody(rejection: problem))
        }
        return try await next(request, context)
    }

    /// The whole body, or `UnreadableBody` if it is too large, breaks off, or doesn't arrive in time.
    static func collect(_ body: RequestBody, within timeout: Duration) async throws -> ByteBuffer {
        try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
            group.addTask {
                do {
                    return try await body.collect(upTo: ErrorMapping.bodySizeMax)
                } catch {
                    throw UnreadableBody(cause: error)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let buffer = first else {
                throw UnreadableBody(cause: BodyTimedOut(timeout: timeout))
            }
            return buffer
        }
    }

    /// A portal form: its fields are checked by `FormData`, which answers with a message beside
    /// the form rather than a problem document.
    static func isForm(_ request: Request) -> Bool {
        request.headers[.contentType]?.hasPrefix("application/x-www-form-urlencoded") == true
    }
}

/// A body that could not be read to its end; the client's fault, answered with a 4xx.
struct UnreadableBody: Error {
    let cause: any Error
}

struct BodyTimedOut: Error {
    let timeout: Duration
}

extension GuardMiddleware {
    /// A path of the API asked for with a method it doesn't have is 405 with the methods it
    /// does have, not 404: the router can't tell the two apart, the spec can.
    static func methodNotAllowed(_ request: Request) -> Response? {
        guard let allowed = OpenAPIDocument.methods(for: request.uri.path), !allowed.contains(request.method.rawValue) else {
            return nil
        }
        var response = ProblemResponse.make(ProblemBody(.methodNotAllowed, status: 405,
                                                        detail: "\(request.uri.path.prefix(100)) takes \(allowed.sorted().joined(separator: ", "))"))
        response.headers[.allow] = allowed.sorted().joined(separator: ", ")
        return response
    }

    /// A 5xx is a failure someone must look at, so its request line is an error and stays in
    /// the log at `--log-level warning`; every other answer's line is info.
    static func logLevel(status: Int) -> Logger.Level {
        status >= 500 ? .error : .info
    }

    /// 128 random bits in hex. Not `UUID()`: on Linux that opens /dev/urandom on every call.
    static func newRequestID() -> String {
        var generator = SystemRandomNumberGenerator()
        let (high, low) = (generator.next() as UInt64, generator.next() as UInt64)
        let hex = String(high, radix: 16) + String(repeating: "0", count: 16 - String(low, radix: 16).count) + String(low, radix: 16)
        return String(repeating: "0", count: 32 - hex.count) + hex
    }
}

/// Turning any error into the problem document a client sees.
enum ErrorMapping {
    static let bodySizeMax = 64 * 1024

    static func problem(for error: any Error, logger: Logger) -> ProblemBody {
        switch error {
        case let serverError as ServerError:
            // No decoded input means the request itself could not be read.
            if serverError.operationInput == nil {
                return unreadable(serverError)
            }
            // An answer that was made but could not be sent: the client's Accept allows none of
            // the types this operation answers with (problem documents are always allowed,
            // `ProblemAcceptMiddleware`).
            if serverError.operationOutput != nil {
                return ProblemBody(.notAcceptable, status: 406,
                                   detail: "this operation can't answer in a type your Accept header allows")
            }
            return problem(for: serverError.underlyingError, logger: logger)
        case let rejection as Rejection:
            return ProblemBody(rejection: rejection)
        case let httpError as HTTPError:
            return httpProblem(httpError)
        case is NIOTooManyBytesError:
            return ProblemBody(.payloadTooLarge, status: 413, detail: "request bodies are at most \(bodySizeMax) bytes")
        case let storeError as StoreError where storeError.code == .unavailable:
            return ProblemBody(.unavailable, status: 503, detail: storeError.message)
        default:
            logger.error("unhandled error", metadata: ["error": .string(String(describing: error))])
            return ProblemBody(.internalError, status: 500, detail: "the desk failed to handle this request; it has been logged")
        }
    }

    static func httpProblem(_ error: HTTPError) -> ProblemBody {
        switch error.status.code {
        case 404: ProblemBody(.notFound, status: 404, detail: "no such resource")
        case 405: ProblemBody(.methodNotAllowed, status: 405, detail: "method not allowed here")
        case 413: ProblemBody(.payloadTooLarge, status: 413, detail: "request bodies are at most \(bodySizeMax) bytes")
        default: ProblemBody(.invalidRequest, status: Int(error.status.code), detail: error.body ?? error.status.reasonPhrase)
        }
    }

    /// A body or parameter that doesn't match the spec.
    static func unreadable(_ error: ServerError) -> ProblemBody {
        let reason = String(describing: error.underlyingError)
        return ProblemBody(.invalidRequest, status: 400, detail: "the request does not match the API: \(reason.prefix(300))")
    }

    /// The body could not be read to its end: too long, or the client went away or broke the
    /// framing. Either way it is the client's doing, so a 4xx, not a logged failure (hardening L5).
    static func unreadableBody(_ error: any Error) -> ProblemBody {
        if error is NIOTooManyBytesError {
            return ProblemBody(.payloadTooLarge, status: 413, detail: "request bodies are at most \(bodySizeMax) bytes")
        }
        if let late = error as? BodyTimedOut {
            return ProblemBody(.requestTimeout, status: 408, detail: "the request body did not arrive within \(late.timeout.components.seconds) s")
        }
        return ProblemBody(.invalidRequest, status: 400, detail: "the request body could not be read to its end")
    }
}

/// An empty request body is no body: the Hummingbird transport always hands the generated code a
/// body, which would then fail to parse "" as JSON for operations whose body is optional.
struct EmptyBodyMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        // Already bounded by GuardMiddleware, so collecting here can't grow without limit.
        let bytes = try await Data(collecting: body, upTo: ErrorMapping.bodySizeMax)
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}

/// Every error answer is a problem document, whatever the client's Accept says (hardening X4):
/// many generated clients send `Accept: application/json`, and the generated server would then
/// refuse to send the `application/problem+json` of a refusal and fail with a 500. Adding the
/// problem type to the request's Accept changes nothing else: a success answer still has to
/// match what the client asked for.
struct ProblemAcceptMiddleware: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let accept = request.headerFields[.accept] {
            request.headerFields[.accept] = accept + ", application/problem+json"
        }
        return try await next(request, body, metadata)
    }
}

/// The Idempotency-Key reaches the handlers exactly as sent. NB: the generated server reads
/// header values as URI-encoded text, so `%41` arrived as `A` (two keys, one answer) and `%` as
/// nothing; the key is handed over percent-encoded, which that decoding undoes.
struct RawIdempotencyKeyMiddleware: ServerMiddleware {
    static let field = HTTPField.Name("Idempotency-Key")!

    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, metadata: ServerRequestMetadata, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        if let key = request.headerFields[Self.field] {
            request.headerFields[Self.field] = key.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? key
        }
        return try await next(request, body, metadata)
    }
}
