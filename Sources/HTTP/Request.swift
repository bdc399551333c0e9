import Foundation

/// An HTTP request as a handler sees it: fully received, with its path matched to a route.
public struct Request: Sendable {
    public var method: HTTPMethod
    /// The percent-decoded path, without the query string.
    public var path: String
    /// The decoded query arguments; for a repeated name, the last value wins.
    public var query: [String: String]
    public var headers: HTTPHeaders
    public var body: [UInt8]
    /// Values of the `{name}` segments of the matched route, decoded.
    public var pathParameters: [String: String]
    /// The matched route pattern (e.g. `/v1/resources/{resource}/{id}`), or `unmatched`.
    public var route: String

    public init(method: HTTPMethod, path: String, query: [String: String] = [:],
                headers: HTTPHeaders = HTTPHeaders(), body: [UInt8] = [],
                pathParameters: [String: String] = [:], route: String = Route.unmatched) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.pathParameters = pathParameters
        self.route = route
    }

    /// The first value of a header, looked up without regard to case: `header("authorization")`.
    public func header(_ name: String) -> String? { headers[name] }

    /// Decodes the body as JSON; a body that does not decode is a 400 whose message says where
    /// (field path, line and column) and why, never the offending value.
    public func decodeJSON<T: Decodable>(_ type: T.Type = T.self) throws -> T {
        guard !body.isEmpty else {
            throw HTTPError.badRequest("request body is empty; expected JSON", code: "invalid_json")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch let error as DecodingError {
            throw HTTPError.badRequest(Self.describe(error, body: body), code: "invalid_json")
        }
    }

    private static func describe(_ error: DecodingError, body: [UInt8]) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            guard !codingPath.isEmpty else { return "$" }
            return "$" + codingPath.map { key in
                key.intValue.map { "[\($0)]" } ?? ".\(key.stringValue)"
            }.joined()
        }
        switch error {
        case .typeMismatch(let type, let context):
            return "request body field \(path(context.codingPath)) has the wrong type: expected \(type)"
        case .valueNotFound(let type, let context):
            return "request body field \(path(context.codingPath)) is null: expected \(type)"
        case .keyNotFound(let key, let context):
            return "request body is missing field \(path(context.codingPath + [key]))"
        case .dataCorrupted(let context) where !context.codingPath.isEmpty:
            // A value-level failure (e.g. an unknown enum case): its description may quote the value.
            return "request body field \(path(context.codingPath)) has an invalid value"
        case .dataCorrupted:
            return "request body is not valid JSON: \(syntaxErrorPosition(body))"
        @unknown default:
            return "request body is not valid JSON"
        }
    }

    /// Where a JSON syntax error is ("Invalid value around character 21."). JSONDecoder on Linux
    /// does not say; JSONSerialization does. Only runs for bodies that already failed to decode.
    private static func syntaxErrorPosition(_ body: [UInt8]) -> String {
        do {
            _ = try JSONSerialization.jsonObject(with: Data(body), options: [.fragmentsAllowed])
            return "it does not match the expected structure"
        } catch {
            return ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? "syntax error"
        }
    }
}
