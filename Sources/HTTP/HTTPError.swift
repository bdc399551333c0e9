import Telemetry

/// An error a handler throws to answer with a specific status, rendered as
/// `{"error":{"code":"...","message":"..."}}`.
///
/// `message` is sent to the client: it must say what was wrong with the request (which field,
/// which position) but never echo residents' personal data.
public struct HTTPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The HTTP status code, 400-599.
    public var status: Int
    /// A stable machine-readable code such as `not_found` or `payload_too_large`.
    public var code: String
    /// A human-readable explanation for the client.
    public var message: String
    /// Extra response headers (for example `Allow` on 405 or `Retry-After` on 503).
    public var headers: [HTTPHeader]

    public init(status: Int, code: String, message: String, headers: [HTTPHeader] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    public var description: String { "HTTP \(status) \(code): \(message)" }

    /// The JSON response for this error.
    public var response: Response {
        var response = Response.jsonText(
            "{\"error\":{\"code\":\(JSONText.quote(code)),\"message\":\(JSONText.quote(message))}}",
            status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    public static func badRequest(_ message: String, code: String = "bad_request") -> HTTPError {
        HTTPError(status: 400, code: code, message: message)
    }
    public static func unauthorized(_ message: String = "authentication required") -> HTTPError {
        HTTPError(status: 401, code: "unauthorized", message: message)
    }
    public static func forbidden(_ message: String = "not allowed") -> HTTPError {
        HTTPError(status: 403, code: "forbidden", message: message)
    }
    public static func notFound(_ message: String = "no such resource") -> HTTPError {
        HTTPError(status: 404, code: "not_found", message: message)
    }
    public static func conflict(_ message: String) -> HTTPError {
        HTTPError(status: 409, code: "conflict", message: message)
    }
    public static func payloadTooLarge(limit: Int) -> HTTPError {
        HTTPError(status: 413, code: "payload_too_large",
                  message: "request body exceeds the limit of \(limit) bytes for this route",
                  headers: [HTTPHeader("Connection", "close")])
    }
    public static func serviceUnavailable(_ message: String) -> HTTPError {
        HTTPError(status: 503, code: "unavailable", message: message)
    }
    /// What the client sees for any error that is not an `HTTPError`: nothing about its cause.
    public static let internalError = HTTPError(status: 500, code: "internal",
                                                message: "the server failed to handle this request")
}
