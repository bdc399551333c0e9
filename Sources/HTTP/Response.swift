import Foundation

/// What a handler answers: a status, headers and a body that is complete, streamed or deferred.
public struct Response: Sendable {
    /// How the body reaches the client.
    public enum Body: Sendable {
        /// The whole body, known now.
        case bytes([UInt8])
        /// A body written over time by a producer (Server-Sent Events, large exports); sent with
        /// chunked transfer encoding.
        case stream(ResponseStream)
        /// The whole response is decided later (long-poll). The closure is called once, on the
        /// server's thread, right after the handler returns; it must not block. It keeps the
        /// `ResponseCompletion` and completes it from any thread; the connection holds no thread
        /// meanwhile.
        case deferred(@Sendable (ResponseCompletion) -> Void)
    }

    public var status: Int
    public var headers: [HTTPHeader]
    public var body: Body

    public init(status: Int = 200, headers: [HTTPHeader] = [], body: Body = .bytes([])) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// `value` encoded as JSON (ISO 8601 dates).
    public static func json<T: Encodable>(_ value: T, status: Int = 200) throws -> Response {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(value)
        return Response(status: status, headers: [HTTPHeader("Content-Type", "application/json")],
                        body: .bytes([UInt8](data)))
    }

    /// Prebuilt JSON text, sent as is.
    public static func jsonText(_ text: String, status: Int = 200) -> Response {
        Response(status: status, headers: [HTTPHeader("Content-Type", "application/json")],
                 body: .bytes(Array(text.utf8)))
    }

    /// Plain (or other) text.
    public static func text(_ text: String, status: Int = 200,
                            contentType: String = "text/plain; charset=utf-8") -> Response {
        Response(status: status, headers: [HTTPHeader("Content-Type", contentType)],
                 body: .bytes(Array(text.utf8)))
    }

    /// Raw bytes with a content type.
    public static func bytes(_ bytes: [UInt8], status: Int = 200,
                             contentType: String = "application/octet-stream") -> Response {
        Response(status: status, headers: [HTTPHeader("Content-Type", contentType)], body: .bytes(bytes))
    }

    /// 204 with no body.
    public static var noContent: Response { Response(status: 204) }

    /// A streamed body fed by `stream`'s producer.
    public static func stream(_ stream: ResponseStream, status: Int = 200,
                              contentType: String = "application/octet-stream") -> Response {
        Response(status: status, headers: [HTTPHeader("Content-Type", contentType)], body: .stream(stream))
    }

    /// A response decided later: `start` receives the completion to complete from any thread.
    public static func deferred(_ start: @escaping @Sendable (ResponseCompletion) -> Void) -> Response {
        Response(body: .deferred(start))
    }

    /// The same response with one more header.
    public func withHeader(_ name: String, _ value: String) -> Response {
        var copy = self
        copy.headers.append(HTTPHeader(name, value))
        return copy
    }
}
