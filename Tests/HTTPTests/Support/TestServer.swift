import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import HTTP
import Telemetry

/// A value shared between test threads.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withValue<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }

    var current: Value { withValue { $0 } }
}

/// Polls `condition` until it holds or `timeout` passes (for state another thread changes).
func eventually(timeout: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: timeout)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}

/// A real server on a free loopback port, stopped by `close()`.
final class TestServer: @unchecked Sendable {
    let server: HTTPServer
    let metrics = MetricsRegistry()
    let port: Int

    init(threads: Int = 2, configure: (Router) -> Void) throws {
        let router = Router()
        configure(router)
        // HTTP_TEST_LOG=1 shows the server's log lines (including libmicrohttpd's messages).
        let logger = ProcessInfo.processInfo.environment["HTTP_TEST_LOG"] == nil
            ? Logger.silent : Logger(label: "http-test", level: .debug, format: .text)
        server = HTTPServer(port: 0, router: router, threads: threads, logger: logger, metrics: metrics)
        try server.start()
        port = server.boundPort
    }

    func url(_ path: String) -> URL { URL(string: "http://127.0.0.1:\(port)\(path)")! }

    func close() { server.stop() }

    /// One request through URLSession; returns status, headers and body.
    func fetch(_ method: String = "GET", _ path: String, body: Data? = nil,
               headers: [String: String] = [:]) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: url(path))
        request.httpMethod = method
        request.httpBody = body
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = response as! HTTPURLResponse
        var fields: [String: String] = [:]
        for (name, value) in http.allHeaderFields { fields[String(describing: name).lowercased()] = String(describing: value) }
        return (http.statusCode, fields, data)
    }
}

/// The `error` object of an error response body.
struct ErrorBody: Decodable {
    struct Detail: Decodable {
        let code: String
        let message: String
    }
    let error: Detail
}
