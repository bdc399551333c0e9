import HTTP
import HTTPClient
import Telemetry
import Testing

/// The libcurl client against the project's own libmicrohttpd server on a loopback port.
@Suite struct HTTPClientTests {
    private func withServer(_ body: (Int) throws -> Void) throws {
        let router = Router()
        router.add(.POST, "/echo") { request in
            .bytes(request.body, contentType: "application/octet-stream")
                .withHeader("X-Method", "POST")
                .withHeader("X-Seen-Auth", request.header("authorization") ?? "")
        }
        router.add(.GET, "/status/{code}") { request in
            .text("status", status: Int(request.pathParameters["code"] ?? "") ?? 500)
        }
        router.add(.GET, "/big") { _ in .bytes([UInt8](repeating: 65, count: 100_000), contentType: "text/plain") }
        let server = HTTPServer(port: 0, router: router, threads: 2, logger: .silent, metrics: MetricsRegistry())
        try server.start()
        defer { server.stop() }
        try body(server.boundPort)
    }

    @Test func postsABodyAndReadsStatusHeadersAndBody() throws {
        try withServer { port in
            var request = HTTPClientRequest(method: "POST", url: "http://127.0.0.1:\(port)/echo",
                                            headers: [("Authorization", "Bearer abc"), ("Content-Type", "application/json")],
                                            body: Array(#"{"a":1}"#.utf8))
            request.timeout = 5
            let response = try HTTPClient().send(request)
            #expect(response.status == 200)
            #expect(response.body == Array(#"{"a":1}"#.utf8))
            #expect(response.header("x-method") == "POST")
            #expect(response.header("X-Seen-Auth") == "Bearer abc")
        }
    }

    @Test func anErrorStatusIsAResponseNotAnError() throws {
        try withServer { port in
            let response = try HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/status/503"))
            #expect(response.status == 503)
            let missing = try HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/nowhere"))
            #expect(missing.status == 404)
        }
    }

    @Test func aResponseOverTheLimitFailsInsteadOfGrowing() throws {
        try withServer { port in
            #expect(throws: HTTPClientError.self) {
                try HTTPClient(maximumResponseBytes: 10_000).send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/big"))
            }
            let whole = try HTTPClient(maximumResponseBytes: 200_000).send(HTTPClientRequest(url: "http://127.0.0.1:\(port)/big"))
            #expect(whole.body.count == 100_000)
        }
    }

    @Test func aRefusedConnectionIsRetriableAndHidesTheQuery() throws {
        // Port 1 on loopback: nothing listens there.
        do {
            _ = try HTTPClient().send(HTTPClientRequest(url: "http://127.0.0.1:1/x?token=secret", connectTimeout: 2))
            Issue.record("expected a connection error")
        } catch {
            #expect(error.kind == .connectionRefused)
            #expect(error.isRetriable)
            #expect(!error.description.contains("secret"))
        }
    }
}
