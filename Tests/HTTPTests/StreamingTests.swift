import Foundation
@testable import HTTP
import Testing

@Suite("Streaming responses")
struct StreamingTests {
    @Test func chunksArriveWhileTheProducerIsStillWriting() throws {
        let firstChunkRead = DispatchSemaphore(value: 0)
        let server = try TestServer { router in
            router.add(.GET, "/events") { _ in
                let stream = ResponseStream()
                Thread.detachNewThread {
                    stream.write("one\n")
                    // The client must see "one" before the producer goes on: nothing is buffered to the end.
                    _ = firstChunkRead.wait(timeout: .now() + 5)
                    for word in ["two\n", "three\n"] {
                        usleep(30_000)
                        stream.write(word)
                    }
                    stream.finish()
                }
                return .stream(stream, contentType: "text/event-stream")
            }
        }
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        let head = try client.readHead()
        #expect(head.status == 200)
        #expect(head.header("Content-Type") == "text/event-stream")
        #expect(head.header("Transfer-Encoding")?.lowercased() == "chunked")
        let first = try client.readChunk()
        #expect(first.map { String(decoding: $0, as: UTF8.self) } == "one\n")
        firstChunkRead.signal()
        var rest: [UInt8] = []
        while let chunk = try client.readChunk() { rest += chunk }
        #expect(String(decoding: rest, as: UTF8.self) == "two\nthree\n")
        // The connection stays usable for the next request after the stream ended.
        let next = try client.request("GET", "/nope")
        #expect(next.status == 404)
    }

    @Test func clientDisconnectTriggersOnClose() throws {
        let closed = DispatchSemaphore(value: 0)
        let stream = ResponseStream()
        stream.onClose { closed.signal() }
        let server = try TestServer { router in
            router.add(.GET, "/events") { _ in .stream(stream) }
        }
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        stream.write("hello")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() != nil)
        client.close()
        // The producer's heartbeats reveal that the client left.
        var heartbeats = 0
        while closed.wait(timeout: .now() + 0.02) == .timedOut, heartbeats < 250 {
            stream.write(": heartbeat\n")
            heartbeats += 1
        }
        #expect(stream.isClosed)
        #expect(!stream.write("late"), "writes after close are refused")
    }

    @Test func stopWithAnOpenStreamEndsItPromptly() throws {
        let stream = ResponseStream()
        let closed = Locked(false)
        stream.onClose { closed.withValue { $0 = true } }
        let server = try TestServer { router in
            router.add(.GET, "/events") { _ in .stream(stream) }
        }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        stream.write("first")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() != nil)

        let started = Date()
        server.close()
        let elapsed = Date().timeIntervalSince(started)
        #expect(elapsed < 1.5, "stop took \(elapsed) s")
        #expect(closed.current)
        #expect(try client.readChunk() == nil, "the stream ends cleanly with the last chunk")
    }

    @Test func anIdleStreamIsNotPolled() throws {
        let stream = ResponseStream()
        let server = try TestServer { router in
            router.add(.GET, "/events") { _ in .stream(stream) }
        }
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/events")
        stream.write("a")
        #expect(try client.readHead().status == 200)
        #expect(try client.readChunk() == Array("a".utf8))
        let callsBefore = stream.readerCallCount
        usleep(200_000)
        // The reader suspended the connection: nothing calls it while there is nothing to send.
        #expect(stream.readerCallCount - callsBefore <= 1)
        stream.write("b")
        #expect(try client.readChunk() == Array("b".utf8))
        stream.finish()
        #expect(try client.readChunk() == nil)
    }

    @Test func manyStreamsFedByConcurrentProducersLoseNothing() throws {
        let clientCount = 40, producerCount = 4, messagesPerProducer = 50
        let streams = Locked<[ResponseStream]>([])
        let server = try TestServer(threads: 2) { router in
            router.add(.GET, "/feed") { _ in
                let stream = ResponseStream()
                streams.withValue { $0.append(stream) }
                return .stream(stream)
            }
        }
        defer { server.close() }
        var clients: [RawHTTPClient] = []
        for _ in 0..<clientCount {
            let client = try RawHTTPClient(port: server.port)
            try client.sendRequest("GET", "/feed")
            clients.append(client)
        }
        #expect(eventually { streams.current.count == clientCount })
        let all = streams.current
        let producers = DispatchGroup()
        for producer in 0..<producerCount {
            producers.enter()
            Thread.detachNewThread {
                for message in 0..<messagesPerProducer {
                    for stream in all { stream.write("\(producer):\(message)\n") }
                    if message % 10 == 0 { usleep(1_000) }  // let readers drain and suspend again
                }
                producers.leave()
            }
        }
        producers.wait()
        for stream in all { stream.finish() }

        for client in clients {
            let reply = try client.readResponse()
            let lines = reply.text.split(separator: "\n")
            #expect(lines.count == producerCount * messagesPerProducer)
            // Each producer's messages arrive in the order written.
            var next = [Int](repeating: 0, count: producerCount)
            for line in lines {
                let parts = line.split(separator: ":").compactMap { Int($0) }
                guard parts.count == 2 else {
                    Issue.record("garbled line \(line)")
                    break
                }
                #expect(parts[1] == next[parts[0]])
                next[parts[0]] += 1
            }
        }
    }

    @Test func aStreamServesOnlyOneResponse() throws {
        let stream = ResponseStream()
        stream.finish()
        let server = try TestServer { router in
            router.add(.GET, "/once") { _ in .stream(stream) }
        }
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        #expect(try client.request("GET", "/once").status == 200)
        #expect(try client.request("GET", "/once").status == 500)
    }
}
