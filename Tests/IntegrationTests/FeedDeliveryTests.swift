import Feed
import Foundation
import HTTP
@testable import Hub
import Store
import Telemetry
import Testing

/// SSE streams, catch-up after downtime, and signed webhooks checked by the Standard Webhooks
/// reference library for Python.
@Suite struct FeedDeliveryTests {
    static var everything: [String: Any] {
        ["name": "Street office", "purpose": "street office duties", "resources": ["Person"], "area": ["510108"]]
    }

    @Test func sseDeliversInOrderWithHeartbeatsAndResumesFromLastEventID() async throws {
        let hub = try FeedTesting.hub()
        let (_, token, _) = try await FeedTesting.subscribe(hub, Self.everything)
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<50) { _ in "510108001001" })
        let first = try SSEReader(url: hub.base + "/v1/feed/stream", token: token)
        let got = first.read(events: 50, timeout: 10)
        #expect(got.events.map(\.id) == Array(1...50))
        // Events that arrive while connected are pushed.
        try FeedTesting.append(hub, FeedTesting.personEvents(50..<60) { _ in "510108001001" })
        let more = first.read(events: 10, timeout: 10)
        #expect(more.events.map(\.id) == Array(51...60))
        let idle = first.read(events: 1, timeout: 1.5)
        #expect(idle.events.isEmpty && idle.heartbeats >= 1, "an idle stream sends heartbeat comments")
        first.close()

        // Disconnected while 40 more pass (some outside the area); reconnect with the last id seen.
        try FeedTesting.append(hub, FeedTesting.personEvents(60..<100) { $0 % 4 == 0 ? "440524001001" : "510108001001" })
        let second = try SSEReader(url: hub.base + "/v1/feed/stream", token: token, lastEventID: "60")
        let resumed = second.read(events: 30, timeout: 10)
        second.close()
        #expect(resumed.events.map(\.id) == (61...100).filter { ($0 - 1) % 4 != 0 }.map(Int64.init))
        let event = FeedTesting.json(resumed.events[0].data)
        #expect(event["type"] as? String == "org.recordonce.person.created")
        #expect(try await httpRequest(hub.base + "/v1/feed/stream", token: token, headers: ["Last-Event-ID": "x"]).status == 400)
    }

    @Test func aSubscriberDownWhile100000EventsPassGetsThemAllInOrder() async throws {
        let hub = try FeedTesting.hub()
        let (_, token, _) = try await FeedTesting.subscribe(hub, Self.everything)
        let total = 100_000
        for start in stride(from: 0, to: total, by: 20_000) {
            try FeedTesting.append(hub, FeedTesting.personEvents(start..<(start + 20_000)) { _ in "510108001001" })
        }
        var after = 0
        var received = 0
        var inOrder = true
        while after < total {
            let page = try await httpRequest(hub.base + "/v1/feed?after=\(after)&limit=1000&format=ndjson", token: token)
            #expect(page.status == 200)
            for line in page.text.split(separator: "\n") {
                let id = Int(FeedTesting.json(String(line))["id"] as? String ?? "") ?? -1
                if id != after + 1 { inOrder = false }
                after = id
                received += 1
            }
            if page.text.isEmpty { break }
        }
        #expect(received == total)
        #expect(inOrder)
    }

    @Test func webhooksAreSignedOrderedRetriedAndVerifiedByTheReferenceLibrary() async throws {
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        let hub = try FeedTesting.hub()
        var spec = Self.everything
        let rotated = [WebhookSigner.newSecret(), WebhookSigner.newSecret()]
        spec["delivery"] = ["mode": "webhook", "url": receiver.url, "secrets": rotated]
        let (id, _, body) = try await FeedTesting.subscribe(hub, spec)
        #expect((body["delivery"] as? [String: Any])?["secrets"] as? [String] == rotated)
        receiver.failNext(3)  // the first attempts fail: retried with backoff, order kept
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<20) { _ in "510108001001" })
        let deliveries = receiver.wait(for: 20, timeout: 20)
        #expect(deliveries.map(\.position) == Array(1...20))
        #expect(receiver.attempts >= 23)
        try StandardWebhooksCheck.verify(deliveries, secrets: rotated)

        // A tampered body does not verify: the check can fail.
        var forged = deliveries[0]
        forged.body = forged.body.replacingOccurrences(of: "\"version\":1", with: "\"version\":2")
        #expect(throws: (any Error).self) { try StandardWebhooksCheck.verify([forged], secrets: rotated) }

        // Redelivery from a position on request.
        #expect(try await httpRequest(hub.base + "/v1/subscriptions/\(id)/redeliver", method: "POST", token: hub.adminToken,
                                      body: Data(#"{"after":15}"#.utf8)).status == 204)
        hub.hub.feed?.dispatcher.wake()
        let again = receiver.wait(for: 25, timeout: 20)
        #expect(again.map(\.position).suffix(5) == Array(16...20))

        // 410 Gone disables the subscription.
        receiver.answerGone()
        try FeedTesting.append(hub, FeedTesting.personEvents(20..<21) { _ in "510108001001" })
        var status = ""
        for _ in 0..<100 {
            status = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", token: hub.adminToken).json()["status"] as? String ?? ""
            if status == "disabled" { break }
            try await Task.sleep(nanoseconds: 100_000_000)
        }
        #expect(status == "disabled")
    }

    @Test func twoDispatchersNeverDeliverOneSubscriptionAtOnce() async throws {
        let receiver = try WebhookReceiver(delay: 0.002)
        defer { receiver.stop() }
        let hub = try FeedTesting.hub()
        var spec = Self.everything
        spec["delivery"] = ["mode": "webhook", "url": receiver.url]
        _ = try await FeedTesting.subscribe(hub, spec)
        // A second dispatcher, as another hub process would run, on the same database.
        let feed = try #require(hub.hub.feed)
        var settings = WebhookSettings()
        settings.workers = 3
        let other = WebhookDispatcher(reader: feed.reader, notifier: feed.notifier, settings: settings, logger: .silent)
        other.start()
        defer { other.stop() }
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<200) { _ in "510108001001" })
        let deliveries = receiver.wait(for: 200, timeout: 30)
        #expect(deliveries.map(\.position) == Array(1...200))
        #expect(receiver.maxConcurrent == 1, "one subscription was delivered by two workers at once")
    }
}

/// A webhook endpoint for the tests, on the hub's own HTTP server module.
final class WebhookReceiver: @unchecked Sendable {
    struct Delivery: Sendable {
        var id: String
        var timestamp: String
        var signature: String
        var body: String
        var position: Int64
    }

    private let server: HTTPServer
    private let lock = NSCondition()
    private var received: [Delivery] = []
    private var failures = 0
    private var gone = false
    private var inFlight = 0
    private(set) var attemptsCount = 0
    private(set) var maxConcurrentSeen = 0
    var url: String { "\(server.tls == nil ? "http" : "https")://\(host):\(server.boundPort)/hook" }
    private let host: String
    var attempts: Int { lock.withLock { attemptsCount } }
    var maxConcurrent: Int { lock.withLock { maxConcurrentSeen } }

    /// `tls`: serve HTTPS with these files; `host`: the name the URL uses (the certificate's).
    init(delay: Double = 0, tls: TLSFiles? = nil, host: String = "127.0.0.1") throws {
        let router = Router()
        self.host = host
        server = HTTPServer(port: 0, router: router, threads: 4, tls: tls, logger: .silent)
        router.add(.POST, "/hook") { [unowned self] request in
            lock.withLock {
                attemptsCount += 1
                inFlight += 1
                maxConcurrentSeen = max(maxConcurrentSeen, inFlight)
            }
            if delay > 0 { usleep(UInt32(delay * 1_000_000)) }
            return lock.withLock {
                inFlight -= 1
                if gone { return Response(status: 410) }
                if failures > 0 { failures -= 1; return Response(status: 503) }
                let body = String(decoding: request.body, as: UTF8.self)
                let position = Int64(FeedTesting.json(body)["id"] as? String ?? "") ?? -1
                received.append(Delivery(id: request.header("webhook-id") ?? "", timestamp: request.header("webhook-timestamp") ?? "",
                                         signature: request.header("webhook-signature") ?? "", body: body, position: position))
                lock.broadcast()
                return Response(status: 204)
            }
        }
        try server.start()
    }

    func failNext(_ n: Int) { lock.withLock { failures = n } }
    func answerGone() { lock.withLock { gone = true } }

    func wait(for count: Int, timeout: Double) -> [Delivery] {
        let deadline = Date().addingTimeInterval(timeout)
        lock.lock()
        defer { lock.unlock() }
        while received.count < count && lock.wait(until: deadline) {}
        return received
    }

    func stop() { server.stop() }
}

/// Verifies deliveries with the Standard Webhooks reference library for Python (installed by
/// deploy/setup). A missing python3 or package fails the test loudly.
enum StandardWebhooksCheck {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func verify(_ deliveries: [WebhookReceiver.Delivery], secrets: [String]) throws {
        let folder = try temporaryFolder("ro-whcheck")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let cases = deliveries.map { ["id": $0.id, "timestamp": $0.timestamp, "signature": $0.signature, "body": $0.body] }
        try JSONSerialization.data(withJSONObject: ["secrets": secrets, "deliveries": cases]).write(to: URL(fileURLWithPath: folder + "/cases.json"))
        let script = """
        import json, sys
        from standardwebhooks.webhooks import Webhook
        data = json.load(open(sys.argv[1]))
        for secret in data["secrets"]:
            hook = Webhook(secret)
            for d in data["deliveries"]:
                hook.verify(d["body"], {"webhook-id": d["id"], "webhook-timestamp": d["timestamp"], "webhook-signature": d["signature"]})
        print("verified", len(data["deliveries"]), "deliveries under", len(data["secrets"]), "secrets")
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", script, folder + "/cases.json"]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw Failure(description: "standardwebhooks verification failed (python3 and the standardwebhooks package come from deploy/setup): \(text)")
        }
    }
}
