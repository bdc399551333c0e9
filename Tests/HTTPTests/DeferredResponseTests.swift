import Foundation
@testable import HTTP
import Testing

@Suite("Deferred (long-poll) responses")
struct DeferredResponseTests {
    @Test func completedLaterFromAnotherThread() async throws {
        let server = try TestServer { router in
            router.add(.GET, "/poll") { _ in
                .deferred { completion in
                    Thread.detachNewThread {
                        usleep(100_000)
                        completion.complete(.jsonText(#"{"events":[]}"#))
                    }
                }
            }
        }
        defer { server.close() }
        let started = Date()
        let reply = try await server.fetch("GET", "/poll")
        #expect(reply.status == 200)
        #expect(String(decoding: reply.body, as: UTF8.self) == #"{"events":[]}"#)
        #expect(Date().timeIntervalSince(started) >= 0.09)
        #expect(server.metrics.render().contains(#"http_requests_total{route="/poll",method="GET",status="200"} 1"#))
    }

    @Test func completedBeforeTheHandlerReturnsAndFailedWithAnError() async throws {
        let server = try TestServer { router in
            router.add(.GET, "/now") { _ in .deferred { $0.complete(.text("at once")) } }
            router.add(.GET, "/fail") { _ in .deferred { $0.fail(HTTPError.conflict("cursor is stale")) } }
        }
        defer { server.close() }
        let now = try await server.fetch("GET", "/now")
        #expect(String(decoding: now.body, as: UTF8.self) == "at once")
        let failed = try await server.fetch("GET", "/fail")
        #expect(failed.status == 409)
        #expect(try JSONDecoder().decode(ErrorBody.self, from: failed.body).error.code == "conflict")
    }

    @Test func manyHeldRequestsDoNotHoldAThreadEach() throws {
        let held = 200
        let waiting = Locked<[ResponseCompletion]>([])
        let server = try TestServer(threads: 2) { router in
            router.add(.GET, "/poll/{n}") { _ in
                .deferred { completion in waiting.withValue { $0.append(completion) } }
            }
            router.add(.GET, "/ping") { _ in .text("pong") }
        }
        defer { server.close() }
        var clients: [RawHTTPClient] = []
        for n in 0..<held {
            let client = try RawHTTPClient(port: server.port)
            try client.sendRequest("GET", "/poll/\(n)")
            clients.append(client)
        }
        #expect(eventually { waiting.current.count == held }, "only \(waiting.current.count) requests reached the handler")

        // With 200 requests held and 2 threads, ordinary requests are still answered at once.
        let started = Date()
        let ping = try RawHTTPClient(port: server.port).request("GET", "/ping")
        #expect(ping.status == 200)
        #expect(Date().timeIntervalSince(started) < 1)

        // Held connections are suspended, not polled: the server is not woken for them.
        usleep(100_000)
        #expect(server.server.idleWakeupCount == 0)

        let completions = waiting.current
        Thread.detachNewThread {
            for (n, completion) in completions.enumerated() { completion.complete(.text("done \(n)")) }
        }
        var answered = 0
        for client in clients {
            let reply = try client.readResponse()
            if reply.status == 200 && reply.text.hasPrefix("done ") { answered += 1 }
        }
        #expect(answered == held)
        #expect(!completions[0].complete(.text("again")), "a completion answers once")
    }

    @Test func stopAnswersPendingRequestsWith503AndCancelsThem() throws {
        let cancelled = Locked(0)
        let pending = Locked<ResponseCompletion?>(nil)
        let server = try TestServer { router in
            router.add(.GET, "/poll") { _ in
                .deferred { completion in
                    completion.onCancel { cancelled.withValue { $0 += 1 } }
                    pending.withValue { $0 = completion }
                }
            }
        }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/poll")
        #expect(eventually { pending.current != nil })
        let started = Date()
        server.close()
        #expect(Date().timeIntervalSince(started) < 1.5)
        let reply = try client.readResponse()
        #expect(reply.status == 503)
        #expect(reply.text.contains("unavailable"))
        #expect(cancelled.current == 1)
        #expect(pending.current?.isPending == false)
        #expect(pending.current?.complete(.text("too late")) == false)
    }

    @Test func completingAfterTheClientLeftIsHarmless() throws {
        let pending = Locked<ResponseCompletion?>(nil)
        let server = try TestServer { router in
            router.add(.GET, "/poll") { _ in .deferred { completion in pending.withValue { $0 = completion } } }
            router.add(.GET, "/ping") { _ in .text("pong") }
        }
        defer { server.close() }
        let client = try RawHTTPClient(port: server.port)
        try client.sendRequest("GET", "/poll")
        #expect(eventually { pending.current != nil })
        client.close()
        usleep(20_000)
        #expect(pending.current?.complete(.text("nobody listens")) == true)
        #expect(eventually { server.server.shutdownParticipantCount == 0 }, "the finished request must be forgotten")
        #expect(try RawHTTPClient(port: server.port).request("GET", "/ping").text == "pong")
    }
}
