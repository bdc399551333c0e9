import CCurl

/// A blocking HTTP client over libcurl, used by the pull adapters (http-json, soap-xml) and by
/// webhook delivery. One libcurl easy handle per request: simple, thread-safe, and cheap next to
/// the network round trip. Call it from a worker thread, never from an HTTP server callback.
public struct HTTPClient: Sendable {
    /// Responses larger than this fail with `.responseTooLarge` instead of filling memory.
    public var maximumResponseBytes: Int

    public init(maximumResponseBytes: Int = 256 << 20) {
        HTTPClient.initializeOnce
        self.maximumResponseBytes = maximumResponseBytes
    }

    /// `curl_global_init` is not thread-safe: run it once, before the first handle exists.
    private static let initializeOnce: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    /// Sends `request` and returns the response whatever its status; throws only when no
    /// response arrived (connection, DNS, TLS, timeout) or it was too large.
    public func send(_ request: HTTPClientRequest) throws(HTTPClientError) -> HTTPClientResponse {
        guard let handle = curl_easy_init() else { throw HTTPClientError(kind: .other, message: "libcurl could not create a handle", url: request.url) }
        defer { curl_easy_cleanup(handle) }
        let sink = ResponseSink(limit: maximumResponseBytes)
        let sinkPointer = Unmanaged.passRetained(sink)
        defer { sinkPointer.release() }
        var headerList: UnsafeMutablePointer<curl_slist>? = nil
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers { headerList = curl_slist_append(headerList, "\(name): \(value)") }
        // libcurl adds "Expect: 100-continue" to large POSTs; departments' servers rarely want it.
        headerList = curl_slist_append(headerList, "Expect:")

        var body = request.body
        let code: CURLcode = body.withUnsafeMutableBytes { bodyBytes in
            ro_curl_setopt_string(handle, CURLOPT_URL, request.url)
            ro_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
            ro_curl_setopt_long(handle, CURLOPT_TIMEOUT_MS, Int(request.timeout * 1000))
            ro_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Int(request.connectTimeout * 1000))
            ro_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, request.followRedirects ? 1 : 0)
            ro_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
            if request.method == "HEAD" { ro_curl_setopt_long(handle, CURLOPT_NOBODY, 1) }
            if !request.body.isEmpty || request.method == "POST" || request.method == "PUT" {
                ro_curl_setopt_pointer(handle, CURLOPT_POSTFIELDS, bodyBytes.baseAddress)
                ro_curl_setopt_long(handle, CURLOPT_POSTFIELDSIZE, bodyBytes.count)
            }
            ro_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
            if let credentials = request.basicAuthentication {
                ro_curl_setopt_long(handle, CURLOPT_HTTPAUTH, 1 /* CURLAUTH_BASIC (a macro Swift cannot import) */)
                ro_curl_setopt_string(handle, CURLOPT_USERNAME, credentials.user)
                ro_curl_setopt_string(handle, CURLOPT_PASSWORD, credentials.password)
            }
            if let tls = request.clientCertificate {
                ro_curl_setopt_string(handle, CURLOPT_SSLCERT, tls.certificateFile)
                ro_curl_setopt_string(handle, CURLOPT_SSLKEY, tls.keyFile)
            }
            // Certificates are always verified: the chain against the trust store (or the given
            // authorities) and the host name against the URL. There is no switch to turn it off.
            ro_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 1)
            ro_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 2)
            if let authority = request.certificateAuthorityFile { ro_curl_setopt_string(handle, CURLOPT_CAINFO, authority) }
            ro_curl_setopt_write_function(handle, writeBody)
            ro_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, sinkPointer.toOpaque())
            ro_curl_setopt_header_function(handle, writeHeader)
            ro_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, sinkPointer.toOpaque())
            return curl_easy_perform(handle)
        }
        if sink.overflowed {
            throw HTTPClientError(kind: .responseTooLarge, message: "response larger than \(maximumResponseBytes) bytes", url: request.url)
        }
        guard code == CURLE_OK else {
            throw HTTPClientError(kind: HTTPClientError.Kind(code.rawValue), message: String(cString: curl_easy_strerror(code)), url: request.url)
        }
        var status = 0
        ro_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        return HTTPClientResponse(status: status, headers: sink.headers, body: sink.body)
    }
}

/// Collects one response; reached from libcurl's C callbacks through an unmanaged pointer.
private final class ResponseSink {
    let limit: Int
    var body: [UInt8] = []
    var headers: [(name: String, value: String)] = []
    var overflowed = false

    init(limit: Int) { self.limit = limit }
}

private let writeBody: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    if sink.body.count + length > sink.limit { sink.overflowed = true; return 0 }   // 0 aborts the transfer
    if let data { data.withMemoryRebound(to: UInt8.self, capacity: length) { sink.body.append(contentsOf: UnsafeBufferPointer(start: $0, count: length)) } }
    return length
}

private let writeHeader: @convention(c) (UnsafeMutablePointer<CChar>?, Int, Int, UnsafeMutableRawPointer?) -> Int = { data, size, count, context in
    let sink = Unmanaged<ResponseSink>.fromOpaque(context!).takeUnretainedValue()
    let length = size * count
    guard let data else { return length }
    let line = data.withMemoryRebound(to: UInt8.self, capacity: length) { String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self) }
    if line.hasPrefix("HTTP/") { sink.headers.removeAll() }   // a new response (after a redirect or 100 Continue)
    if let colon = line.firstIndex(of: ":") {
        let name = line[..<colon].trimmingSpaces()
        let value = line[line.index(after: colon)...].trimmingSpaces()
        sink.headers.append((String(name), String(value)))
    }
    return length
}

extension Substring {
    fileprivate func trimmingSpaces() -> Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c.isNewline { s.removeLast() }   // "\r\n" is one Character
        return s
    }
}
