import Foundation
import HTTP
import Testing

@Suite("Request body limits")
struct BodyLimitTests {
    private func makeServer() throws -> TestServer {
        try TestServer { router in
            router.add(.POST, "/small") { request in .text("\(request.body.count)") }
            router.add(.POST, "/large", bodyLimit: 4 << 20) { request in .text("\(request.body.count)") }
        }
    }

    private let twoMegabytes = [UInt8](repeating: UInt8(ascii: "x"), count: 2 << 20)

    @Test func declaredOversizeBodyIs413() async throws {
        let server = try makeServer()
        defer { server.close() }
        let reply = try await server.fetch("POST", "/small", body: Data(twoMegabytes))
        #expect(reply.status == 413)
        let error = try JSONDecoder().decode(ErrorBody.self, from: reply.body).error
        #expect(error.code == "payload_too_large")
        #expect(error.message.contains("\(1 << 20)"))
        #expect(server.metrics.render().contains(#"http_requests_total{route="/small",method="POST",status="413"} 1"#))
    }

    @Test func chunkedOversizeBodyIs413() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = [UInt8](repeating: UInt8(ascii: "y"), count: 64 * 1024)
        let chunk = Array(String(piece.count, radix: 16).utf8) + Array("\r\n".utf8) + piece + Array("\r\n".utf8)
        for _ in 0..<32 { try client.send(chunk) }  // 2 MiB
        try client.send("0\r\n\r\n")
        let reply = try client.readResponse()
        #expect(reply.status == 413)
        #expect(reply.text.contains("payload_too_large"))
    }

    @Test func chunkedBodyWithinTheLimitArrivesWhole() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
        let reply = try client.readResponse()
        #expect(reply.status == 200)
        #expect(reply.text == "11")
    }

    @Test func routeWithALargerLimitAcceptsTheSameBody() async throws {
        let server = try makeServer()
        defer { server.close() }
        let reply = try await server.fetch("POST", "/large", body: Data(twoMegabytes))
        #expect(reply.status == 200)
        #expect(String(decoding: reply.body, as: UTF8.self) == "\(2 << 20)")
    }

    @Test func endlessChunkedBodyIsCutOff() throws {
        let server = try makeServer()
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.send("POST /small HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        let piece = [UInt8](repeating: UInt8(ascii: "z"), count: 256 * 1024)
        let chunk = Array(String(piece.count, radix: 16).utf8) + Array("\r\n".utf8) + piece + Array("\r\n".utf8)
        var refused = false
        for _ in 0..<200 {  // 50 MiB, far past what the server reads and throws away
            do { try client.send(chunk) } catch {
                refused = true
                break
            }
        }
        #expect(refused, "the server must close a connection that keeps sending past the limit")
    }
}
