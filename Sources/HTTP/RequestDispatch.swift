import CMicroHTTPD
import Foundation
import Telemetry

/// The access handler and request-completed callback: turn MHD's calls into `Request`s, run the
/// route's handler and queue its `Response`.
extension HTTPServer {
    /// MHD calls this first when the headers are in (`*requestContext` is nil), then once per body
    /// chunk, then with no data to ask for the answer (again after every resume).
    func access(connection: OpaquePointer, url: UnsafePointer<CChar>, method: UnsafePointer<CChar>,
                version: UnsafePointer<CChar>? = nil, uploadData: UnsafePointer<CChar>?, uploadSize: UnsafeMutablePointer<Int>,
                requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) -> MHD_Result {
        guard let context = requestContext.pointee else {
            let exchange = begin(connection: connection, url: url, method: method)
            exchange.httpVersion = version.map { String(cString: $0) } ?? ""
            requestContext.pointee = Unmanaged.passRetained(exchange).toOpaque()
            return earlyAnswer(exchange, connection: connection)
        }
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeUnretainedValue()
        if uploadSize.pointee > 0 {
            let chunk = UnsafeRawBufferPointer(start: uploadData, count: uploadSize.pointee)
            uploadSize.pointee = 0
            if exchange.receive(chunk) { return .YES }
            logger.warning("closing connection: request body far beyond the route's limit",
                           ["route": exchange.routeLabel, "limit": String(exchange.bodyLimit)])
            return .NO
        }
        if let completion = exchange.completion {
            // Resumed: the deferred response is ready (or the request is gone).
            guard let response = completion.responseOrSuspend(connection) else {
                noteIdleWakeup()
                return .YES
            }
            return queue(response, for: exchange, on: connection)
        }
        if exchange.bodyTooLarge {
            return queue(HTTPError.payloadTooLarge(limit: exchange.bodyLimit).response, for: exchange, on: connection)
        }
        return queue(runHandler(exchange, connection: connection), for: exchange, on: connection)
    }

    /// MHD is done with the request (answered, failed or the client left): release its state.
    func requestCompleted(_ requestContext: UnsafeMutablePointer<UnsafeMutableRawPointer?>) {
        guard let context = requestContext.pointee else { return }
        requestContext.pointee = nil
        let exchange = Unmanaged<Exchange>.fromOpaque(context).takeRetainedValue()
        if let completion = exchange.completion {
            completion.abandon()
            shutdown.remove(completion)
        }
    }

    // MARK: - Steps

    private func begin(connection: OpaquePointer, url: UnsafePointer<CChar>,
                       method: UnsafePointer<CChar>) -> Exchange {
        var headers = HTTPHeaders()
        withUnsafeMutablePointer(to: &headers) { target in
            _ = MHD_get_connection_values(connection, .HEADER_KIND, { cls, _, key, value in
                guard let cls, let key else { return .YES }
                cls.assumingMemoryBound(to: HTTPHeaders.self).pointee
                    .append(String(cString: key), value.map { String(cString: $0) } ?? "")
                return .YES
            }, target)
        }
        let exchange = Exchange(method: HTTPMethod(rawValue: String(cString: method)),
                                rawPath: String(cString: url), headers: headers,
                                bodyLimit: routes.defaultBodyLimit)
        return exchange
    }

    /// Routes the request as soon as its headers are in, and answers at once when it can:
    /// unknown path (404), wrong method (405), declared body over the limit (413). MHD then
    /// skips the body (and closes the connection if one was coming).
    private func earlyAnswer(_ exchange: Exchange, connection: OpaquePointer) -> MHD_Result {
        switch routes.match(method: exchange.method, rawPath: Substring(exchange.rawPath)) {
        case .notFound:
            return queue(HTTPError.notFound("no route for \(exchange.method) on this path").response,
                         for: exchange, on: connection)
        case .methodNotAllowed(let pattern, let allowed):
            exchange.routeLabel = pattern
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            let error = HTTPError(status: 405, code: "method_not_allowed",
                                  message: "\(exchange.method) is not allowed here; allowed: \(allow)",
                                  headers: [HTTPHeader("Allow", allow)])
            return queue(error.response, for: exchange, on: connection)
        case .found(let route, let parameters):
            exchange.route = route
            exchange.routeLabel = route.pattern
            exchange.pathParameters = parameters
            exchange.bodyLimit = route.bodyLimit
        }
        if let declared = exchange.headers["Content-Length"] {
            guard let length = Int(declared.trimmingCharacters(in: .whitespaces)), length >= 0 else {
                return queue(HTTPError.badRequest("Content-Length is not a number").response,
                             for: exchange, on: connection)
            }
            if length > exchange.bodyLimit {
                return queue(HTTPError.payloadTooLarge(limit: exchange.bodyLimit).response,
                             for: exchange, on: connection)
            }
            // Reserve for small bodies only: a client may declare a large body and send nothing.
            exchange.body.reserveCapacity(min(length, 64 * 1024))
        }
        return .YES
    }

    /// Builds the `Request` and runs the route's handler; errors become their responses.
    private func runHandler(_ exchange: Exchange, connection: OpaquePointer) -> Response {
        guard let route = exchange.route else {
            return HTTPError.notFound().response
        }
        guard let path = PercentDecoding.decode(Substring(exchange.rawPath)) else {
            return HTTPError.badRequest("the path has a malformed percent escape or is not UTF-8").response
        }
        var collected = QueryArguments()
        withUnsafeMutablePointer(to: &collected) { target in
            _ = MHD_get_connection_values(connection, .GET_ARGUMENT_KIND, { cls, _, key, value in
                guard let cls, let key else { return .YES }
                cls.assumingMemoryBound(to: QueryArguments.self).pointee.add(key: key, value: value)
                return .YES
            }, target)
        }
        guard !collected.malformed else {
            return HTTPError.badRequest("the query string has a malformed percent escape or is not UTF-8").response
        }
        let query = collected.values
        let request = Request(method: exchange.method, path: path, query: query, headers: exchange.headers,
                              body: exchange.body, pathParameters: exchange.pathParameters,
                              route: route.pattern)
        exchange.body = []
        do {
            return try route.handler(request)
        } catch let error as HTTPError {
            return error.response
        } catch {
            if let translated = router.errorTranslator?(error) { return translated.response }
            logger.error("handler failed", ["route": route.pattern, "method": exchange.method.rawValue,
                                            "error": String(describing: error)])
            return HTTPError.internalError.response
        }
    }

    /// Hands `response` to MHD: bytes are copied, a stream gets a content reader, a deferred
    /// response suspends the connection until it is completed.
    func queue(_ response: Response, for exchange: Exchange, on connection: OpaquePointer) -> MHD_Result {
        var response = response
        if !(100...599).contains(response.status) {
            logger.error("handler answered an invalid status", ["route": exchange.routeLabel,
                                                                 "status": String(response.status)])
            response = HTTPError.internalError.response
        }
        let mhdResponse: OpaquePointer?
        switch response.body {
        case .bytes(let bytes) where bytes.count >= BodyBytes.sharedMinimum:
            // A large body (a pull page of 10,000 events is about 6 MB) is sent from the array
            // itself instead of MHD's copy of it: the box keeps the array, which nobody mutates,
            // so its storage stays where it is until MHD's free callback releases the box.
            let box = Unmanaged.passRetained(BodyBytes(bytes))
            mhdResponse = MHD_create_response_from_buffer_with_free_callback_cls(
                bytes.count, box.takeUnretainedValue().address, { cls in
                    guard let cls else { return }
                    Unmanaged<BodyBytes>.fromOpaque(cls).release()
                }, box.toOpaque())
            if mhdResponse == nil { box.release() }
        case .bytes(let bytes):
            mhdResponse = bytes.withUnsafeBytes { buffer in
                MHD_create_response_from_buffer(buffer.count, UnsafeMutableRawPointer(mutating: buffer.baseAddress),
                                                .RESPMEM_MUST_COPY)
            }
        case .stream(let stream):
            // A stream may write to the socket itself on plain HTTP only (TLS records are MHD's).
            let socket: Int32? = stream.writesDirectly && tls == nil ? ro_mhd_connection_socket(connection) : nil
            let attached = stream.attach(to: connection, finishNow: shutdown.isStopping, socket: socket,
                                         chunked: exchange.bodyIsChunked(responseHeaders: response.headers)) { [shutdown] in
                shutdown.remove(stream)
            }
            guard attached else {
                logger.error("a response stream was used for a second response", ["route": exchange.routeLabel])
                return queue(HTTPError.internalError.response, for: exchange, on: connection)
            }
            if !shutdown.register(stream) { stream.finish() }
            // MHD owns this reference from here; its free callback releases it.
            let retained = Unmanaged.passRetained(stream)
            mhdResponse = MHD_create_response_from_callback(
                UInt64.max, 32 * 1024,
                { cls, _, buffer, capacity in
                    guard let cls, let buffer else { return ro_mhd_content_reader_end_of_stream() }
                    return Unmanaged<ResponseStream>.fromOpaque(cls).takeUnretainedValue()
                        .read(into: buffer, capacity: capacity)
                },
                retained.toOpaque(),
                { cls in
                    guard let cls else { return }
                    Unmanaged<ResponseStream>.fromOpaque(cls).takeRetainedValue().detach()
                })
            if mhdResponse == nil {
                retained.release()
                stream.detach()
            }
        case .deferred(let start):
            guard exchange.completion == nil else {
                logger.error("a deferred response was completed with another deferred response",
                             ["route": exchange.routeLabel])
                return queue(HTTPError.internalError.response, for: exchange, on: connection)
            }
            let completion = ResponseCompletion()
            exchange.completion = completion
            start(completion)
            if !shutdown.register(completion) { completion.shutDown() }
            guard let ready = completion.responseOrSuspend(connection) else { return .YES }
            return queue(ready, for: exchange, on: connection)
        }
        guard let mhdResponse else {
            logger.error("libmicrohttpd could not create a response", ["route": exchange.routeLabel])
            return .NO
        }
        defer { MHD_destroy_response(mhdResponse) }
        for header in response.headers {
            _ = MHD_add_response_header(mhdResponse, header.name, header.value)
        }
        let result = MHD_queue_response(connection, UInt32(response.status), mhdResponse)
        if !exchange.answered {
            exchange.answered = true
            metrics?.record(route: exchange.routeLabel, method: exchange.method, status: response.status,
                            seconds: exchange.elapsedSeconds)
        }
        return result
    }
}

/// The query arguments MHD hands out one by one (still percent-encoded), decoded.
private struct QueryArguments {
    var values: [String: String] = [:]
    /// Set when an argument has a malformed escape or is not UTF-8.
    var malformed = false

    mutating func add(key: UnsafePointer<CChar>, value: UnsafePointer<CChar>?) {
        let name = PercentDecoding.decode(Substring(String(cString: key)), plusIsSpace: true)
        let text = value.map { PercentDecoding.decode(Substring(String(cString: $0)), plusIsSpace: true) } ?? ""
        guard let name, let text else {
            malformed = true
            return
        }
        values[name] = text
    }
}

/// A response body that MHD sends from where it lies (see `queue`): holds the bytes until MHD is
/// done with them.
final class BodyBytes {
    /// Bodies from this size on are shared with MHD; smaller ones are copied (cheap, and simpler).
    static let sharedMinimum = 64 * 1024

    let bytes: [UInt8]
    /// The first byte of `bytes`' storage (never empty here), stable while the array is held and
    /// not mutated.
    let address: UnsafeMutableRawPointer

    init(_ bytes: [UInt8]) {
        precondition(!bytes.isEmpty)
        self.bytes = bytes
        address = UnsafeMutableRawPointer(mutating: self.bytes.withUnsafeBytes { $0.baseAddress! })
    }
}
