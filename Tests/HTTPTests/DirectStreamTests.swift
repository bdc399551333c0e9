import Foundation
@testable import HTTP
import Telemetry
import Testing

/// Streams that write to their sockets themselves (`ResponseStream(writesDirectly: true)`, the
/// SSE feed): the bytes, their framing and their order must be exactly what the server's own
/// path sends, a slow reader must get every byte, a client that leaves must be cleaned up, and
/// TLS must fall back to the server's path.
@Suite("Direct streams")
struct DirectStreamTests {
    /// A server whose /events route answers with `stream`.
    private func serve(_ stream: ResponseStream) throws -> TestServer {
        try TestServer { router in
            router.add(.GET, "/events") { _ in .stream(stream, contentType: "text/event-stream") }
        }
    }

    @Test func writesGoStraightToTheSocketAsChunks() throws {
        let stream = ResponseStream(writesDirectly: true)
        stream.write("retry: 2000\n\n")
        let server = try serve(stream)
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(head.header("Transfer-Encoding")?.lowercased() == "chunked")
        #expect(try client.readChunk() == Array("retry: 2000\n\n".utf8))
        #expect(eventually { stream.isWritingDirectly }, "the stream writes directly once the first bytes are out")
        stream.write("id: 1\ndata: one\n\n")
        stream.write("id: 2\ndata: two\n\n")
        #expect(try client.readChunk() == Array("id: 1\ndata: one\n\n".utf8))
        #expect(try client.readChunk() == Array("id: 2\ndata: two\n\n".utf8))
        stream.finish()
        #expect(try client.readChunk() == nil, "the server ends the body with the last chunk")
        // The connection is still a valid HTTP/1.1 connection afterwards.
        #expect(try client.request("GET", "/nope").status == 404)
    }

    @Test func http10ClientsGetTheBodyUnchunkedUntilClose() throws {
        let stream = ResponseStream(writesDirectly: true)
        stream.write("first\n")
        let server = try serve(stream)
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.send("GET /events HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(eventually { stream.isWritingDirectly })
        for i in 0..<100 { stream.write("line \(i)\n") }
        stream.finish()
        let reply = try client.readResponse()
        #expect(reply.status == 200)
        #expect(reply.header("Transfer-Encoding") == nil)
        #expect(reply.text == "first\n" + (0..<100).map { "line \($0)\n" }.joined())
    }

    @Test func aSlowReaderGetsEveryByteInOrderAndFinishWaitsForThem() throws {
        let stream = ResponseStream(writesDirectly: true)
        stream.write("start\n")
        let server = try serve(stream)
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port, timeout: 30)
        try client.sendRequest("GET", "/events")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() == Array("start\n".utf8))
        #expect(eventually { stream.isWritingDirectly })
        // Far more than the socket buffers hold while the client reads nothing: most of it waits
        // in the stream and goes out through the writer thread.
        var expected: [UInt8] = []
        let block = [UInt8](repeating: UInt8(ascii: "x"), count: 32 * 1024 - 8)
        for i in 0..<1_000 {
            let piece = Array(String(format: "%07d|", i).utf8) + block
            expected += piece
            #expect(stream.write(piece))
        }
        #expect(stream.bufferedByteCount > 0, "the socket could not take 32 MB at once")
        stream.finish()
        // Finishing does not cut the unsent bytes off: the client reads them all, then the end.
        var received: [UInt8] = []
        received.reserveCapacity(expected.count)
        while let chunk = try client.readChunk() { received += chunk }
        #expect(received.count == expected.count)
        #expect(received == expected)
        #expect(eventually { stream.isClosed || stream.bufferedByteCount == 0 })
    }

    @Test func aClientThatLeavesIsCleanedUp() throws {
        let closed = DispatchSemaphore(value: 0)
        let stream = ResponseStream(writesDirectly: true)
        stream.onClose { closed.signal() }
        stream.write("hello\n")
        let server = try serve(stream)
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() != nil)
        #expect(eventually { stream.isWritingDirectly })
        client.close()
        // A write after the client left fails on the socket; the stream hands the connection back
        // to the server, which closes it and runs the close handlers.
        var heartbeats = 0
        while closed.wait(timeout: .now() + 0.02) == .timedOut, heartbeats < 250 {
            stream.write(": heartbeat\n\n")
            heartbeats += 1
        }
        #expect(stream.isClosed)
        #expect(!stream.isWritingDirectly)
        #expect(!stream.write("late"), "writes after close are refused")
        #expect(eventually { server.server.shutdownParticipantCount == 0 })
    }

    @Test func stopWithUnsentBytesEndsPromptly() throws {
        let stream = ResponseStream(writesDirectly: true)
        stream.write("start\n")
        let server = try serve(stream)
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() != nil)
        #expect(eventually { stream.isWritingDirectly })
        let block = [UInt8](repeating: 0x41, count: 64 * 1024)
        for _ in 0..<300 { stream.write(block) }
        #expect(stream.bufferedByteCount > 0)
        // The client never reads: the grace period passes and the server closes the connection.
        let started = Date()
        server.server.stop(gracePeriod: 0.5)
        #expect(Date().timeIntervalSince(started) < 3)
        #expect(eventually { stream.isClosed })
        #expect(!stream.isWritingDirectly)
    }

    @Test func overTLSTheStreamUsesTheServersPath() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("direct-tls-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let openssl = Process()
        openssl.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        openssl.arguments = ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                             "-keyout", folder + "/key.pem", "-out", folder + "/cert.pem", "-days", "1",
                             "-subj", "/CN=127.0.0.1"]
        openssl.standardOutput = FileHandle.nullDevice
        openssl.standardError = FileHandle.nullDevice
        try openssl.run()
        openssl.waitUntilExit()
        #expect(openssl.terminationStatus == 0)

        let stream = ResponseStream(writesDirectly: true)
        stream.write("one\n")
        let router = Router()
        router.add(.GET, "/events") { _ in .stream(stream, contentType: "text/event-stream") }
        let server = HTTPServer(port: 0, router: router, threads: 2,
                                tls: TLSFiles(certificateFile: folder + "/cert.pem", keyFile: folder + "/key.pem"),
                                logger: Logger.silent)
        try server.start()
        defer { server.stop() }

        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-sSkN", "--max-time", "10", "https://127.0.0.1:\(server.boundPort)/events"]
        let output = Pipe()
        curl.standardOutput = output
        curl.standardError = FileHandle.nullDevice
        try curl.run()
        #expect(eventually { stream.readerCallCount >= 2 }, "the client got the first bytes and the reader asked for more")
        for i in 0..<20 {
            stream.write("line \(i)\n")
            #expect(!stream.isWritingDirectly, "TLS records are the server's: never write the socket directly")
        }
        stream.finish()
        let body = output.fileHandleForReading.readDataToEndOfFile()
        curl.waitUntilExit()
        #expect(String(decoding: body, as: UTF8.self) == "one\n" + (0..<20).map { "line \($0)\n" }.joined())
    }
}
