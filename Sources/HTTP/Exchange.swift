import Dispatch

/// The server's state for one request, kept in MHD's per-request pointer (`*con_cls`) across the
/// calls of the access handler and released in the request-completed callback.
final class Exchange {
    let startNanos = DispatchTime.now().uptimeNanoseconds
    let method: HTTPMethod
    /// The path as sent: still percent-encoded, no query.
    let rawPath: String
    let headers: HTTPHeaders
    /// The route label for metrics and `Request.route`.
    var routeLabel = Route.unmatched
    var route: Route?
    var pathParameters: [String: String] = [:]
    var bodyLimit: Int
    var body: [UInt8] = []
    /// Set once the body went over the limit; later bytes are counted and dropped.
    var bodyTooLarge = false
    var discardedBytes = 0
    /// The pending deferred response, if the handler answered with one.
    var completion: ResponseCompletion?
    /// Whether the final response was queued (and counted in the metrics).
    var answered = false
    /// The request's protocol version as MHD read it ("HTTP/1.1").
    var httpVersion = ""

    init(method: HTTPMethod, rawPath: String, headers: HTTPHeaders, bodyLimit: Int) {
        self.method = method
        self.rawPath = rawPath
        self.headers = headers
        self.bodyLimit = bodyLimit
    }

    var elapsedSeconds: Double {
        Double(DispatchTime.now().uptimeNanoseconds &- startNanos) / 1e9
    }

    /// Takes a chunk of the body, or drops it once the limit is passed. Returns false when the
    /// client keeps sending far beyond the limit and the connection should be cut.
    func receive(_ chunk: UnsafeRawBufferPointer) -> Bool {
        if bodyTooLarge {
            discardedBytes += chunk.count
            return discardedBytes <= Self.discardAllowance(for: bodyLimit)
        }
        if body.count + chunk.count > bodyLimit {
            bodyTooLarge = true
            discardedBytes = body.count + chunk.count
            body = []
            return true
        }
        body.append(contentsOf: chunk)
        return true
    }

    /// How much of an oversized body of unknown length (chunked) the server reads and throws
    /// away so that it can still answer 413; beyond this it closes the connection.
    static func discardAllowance(for limit: Int) -> Int {
        max(limit, 1 << 20) * 4
    }

    /// Whether MHD sends a body of unknown length in HTTP/1.1 chunks (libmicrohttpd 0.9.75): for
    /// an HTTP/1.1 request unless the request or the response asks to close the connection;
    /// otherwise the body ends when the connection closes.
    func bodyIsChunked(responseHeaders: [HTTPHeader]) -> Bool {
        guard httpVersion.uppercased() == "HTTP/1.1" else { return false }
        func closes(_ value: String?) -> Bool {
            value?.lowercased().split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == "close" } ?? false
        }
        if closes(headers["Connection"]) { return false }
        return !responseHeaders.contains { $0.name.lowercased() == "connection" && closes($0.value) }
    }
}
