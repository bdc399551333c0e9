import Foundation
import HTTP
import Telemetry
import Testing

@Suite("Server start and stop")
struct ServerLifecycleTests {
    @Test func portZeroIsReadBackAndAPortInUseIsAnErrorNamingIt() throws {
        let first = try TestServer { $0.add(.GET, "/", handler: { _ in .text("hi") }) }
        defer { first.close() }
        #expect(first.port > 0)
        let second = HTTPServer(port: first.port, router: Router(), threads: 1, logger: .silent, metrics: nil)
        do {
            try second.start()
            second.stop()
            Issue.record("binding a port in use must fail")
        } catch let error as HTTPServerError {
            #expect(error.kind == .startFailed)
            #expect(error.description.contains("127.0.0.1:\(first.port)"))
            #expect(error.description.lowercased().contains("in use"), "\(error)")
        }
    }

    @Test(arguments: ["256.1.1.1", "no-such-host.invalid", ""])
    func badHostIsAnErrorNamingIt(host: String) {
        let server = HTTPServer(host: host, port: 0, router: Router(), threads: 1, logger: .silent, metrics: nil)
        #expect {
            try server.start()
        } throws: { error in
            guard let error = error as? HTTPServerError else { return false }
            return error.kind == .invalidHost && error.description.contains("\(host):0")
        }
    }

    @Test func badPortIsAnError() {
        let server = HTTPServer(port: 70_000, router: Router(), threads: 1, logger: .silent, metrics: nil)
        #expect(throws: HTTPServerError.self) { try server.start() }
    }

    @Test func listensOnIPv6Loopback() throws {
        let router = Router()
        router.add(.GET, "/") { _ in .text("six") }
        let server = HTTPServer(host: "::1", port: 0, router: router, threads: 1, logger: .silent, metrics: nil)
        try server.start()
        defer { server.stop() }
        #expect(server.boundPort > 0)
    }

    @Test func stopIsIdempotentAndTheServerCanStartAgain() throws {
        let router = Router()
        router.add(.GET, "/") { _ in .text("again") }
        let server = HTTPServer(port: 0, router: router, threads: 1, logger: .silent, metrics: nil)
        try server.start()
        server.stop()
        server.stop()
        #expect(server.boundPort == 0)
        try server.start()
        defer { server.stop() }
        let reply = try RawHTTPClient(port: server.boundPort).request("GET", "/")
        #expect(reply.text == "again")
    }
}
