import Feed
import Foundation
@testable import Hub
import Store
import Testing

/// Helpers of the feed's integration tests.
enum FeedTesting {
    /// A hub with a short SSE heartbeat and fast webhook retries.
    static func hub() throws -> TestHub {
        try TestHub(configure: { config in
            config.feed.heartbeatInterval = 0.5
            config.feed.webhooks.initialBackoff = 0.05
            config.feed.webhooks.maxBackoff = 0.2
            config.feed.webhooks.requestTimeout = 3
        })
    }

    /// Creates a subscription through the API; returns its id, token and full answer.
    static func subscribe(_ hub: TestHub, _ spec: [String: Any]) async throws -> (id: String, token: String, body: [String: Any]) {
        let response = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken,
                                             body: try JSONSerialization.data(withJSONObject: spec))
        #expect(response.status == 201, "\(response.text)")
        let body = try response.json()
        return (body["id"] as? String ?? "", body["token"] as? String ?? "", body)
    }

    /// A synthetic Person record in community `community` (12 digits).
    static func person(_ i: Int, community: String, registered: String? = nil) -> String {
        let id = String(format: "5101081990%06d%02d", i % 1_000_000, i % 97)
        return """
        {"citizen_id":"\(id)","name":"居民\(i)号","sex":"\(1 + i % 2)","mobile":"138\(String(format: "%08d", i))",\
        "date_of_birth":"1990-01-\(String(format: "%02d", 1 + i % 28))","current_address":"四川省成都市成华区猛追湾街道望平街\(i)号",\
        "community_code":"\(community)","registered_division":"\(registered ?? community)","political_status":"01"}
        """
    }

    /// Appends events straight to the change log (as the store's writers do), in one transaction.
    @discardableResult
    static func append(_ hub: TestHub, _ events: [NewChangeEvent]) throws -> Int64 {
        try hub.hub.pool.transaction { c in try ChangeLog.append(events, in: c) } ?? 0
    }

    static func personEvents(_ range: Range<Int>, community: (Int) -> String) -> [NewChangeEvent] {
        range.map { i in
            NewChangeEvent(resource: "Person", entityID: "00000000-0000-0000-0000-\(String(format: "%012d", i))", version: 1,
                           operation: .created, changedFields: ["citizen_id", "name", "sex", "mobile", "community_code"],
                           record: person(i, community: community(i)))
        }
    }

    static func json(_ text: String) -> [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }
}

/// Reads a Server-Sent Events stream with curl (which also un-chunks it), event by event.
final class SSEReader: @unchecked Sendable {
    let process = Process()
    private let pipe = Pipe()
    private var buffer: [UInt8] = []

    /// `curlArguments`: more options for curl (e.g. `--cacert FILE` for an HTTPS hub).
    init(url: String, token: String, lastEventID: String? = nil, curlArguments: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        var args = ["-sN", "-H", "Authorization: Bearer \(token)"] + curlArguments
        if let lastEventID { args += ["-H", "Last-Event-ID: \(lastEventID)"] }
        process.arguments = args + [url]
        process.standardOutput = pipe
        try process.run()
    }

    /// Frames (id, data) until `count` events arrived or `timeout` passed; also counts heartbeats.
    func read(events count: Int, timeout: Double) -> (events: [(id: Int64, data: String)], heartbeats: Int) {
        var events: [(Int64, String)] = []
        var heartbeats = 0
        let deadline = Date().addingTimeInterval(timeout)
        let handle = pipe.fileHandleForReading
        while events.count < count && Date() < deadline {
            var fds = pollfd(fd: handle.fileDescriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&fds, 1, 100) > 0 else { continue }
            let data = handle.availableData
            if data.isEmpty { break }
            // Decode whole frames only: a read may end inside a multi-byte character.
            buffer += data
            while let end = buffer.firstRange(of: [0x0A, 0x0A]) {
                let frame = String(decoding: buffer[..<end.lowerBound], as: UTF8.self)
                buffer.removeSubrange(..<end.upperBound)
                var id: Int64?
                var payload: String?
                for line in frame.split(separator: "\n") {
                    if line.hasPrefix(": heartbeat") { heartbeats += 1 }
                    if line.hasPrefix("id: ") { id = Int64(line.dropFirst(4)) }
                    if line.hasPrefix("data: ") { payload = String(line.dropFirst(6)) }
                }
                if let id, let payload { events.append((id, payload)) }
            }
        }
        return (events, heartbeats)
    }

    /// Ends curl (Foundation's waitUntilExit can hang here, so poll instead).
    func close() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }
}
