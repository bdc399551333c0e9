import Foundation
@testable import Hub
import Store
import Testing

/// The SSE pump projects each event once per subscription (and version of it) and shares the
/// result between that subscription's streams: sharing must never hand one subscription's view
/// to another, nor an old scope's view to a stream opened after the subscription changed.
@Suite struct FeedStreamSharingTests {
    static func spec(area: String) -> [String: Any] {
        ["name": "Street office " + area, "purpose": "street office duties", "resources": ["Person"], "area": [area]]
    }

    @Test func streamsOfOneSubscriptionShareEventsAndOtherSubscriptionsKeepTheirOwnView() async throws {
        let hub = try FeedTesting.hub()
        let (chenghuaID, chenghua, _) = try await FeedTesting.subscribe(hub, Self.spec(area: "510108"))
        let (raopingID, raoping, _) = try await FeedTesting.subscribe(hub, Self.spec(area: "440524"))
        let first = try SSEReader(url: hub.base + "/v1/feed/stream", token: chenghua)
        let second = try SSEReader(url: hub.base + "/v1/feed/stream", token: chenghua)
        let other = try SSEReader(url: hub.base + "/v1/feed/stream", token: raoping)
        defer { first.close(); second.close(); other.close() }
        // Every third event is in the other district.
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<30) { $0 % 3 == 0 ? "440524001001" : "510108001001" })
        let ours = (1...30).filter { ($0 - 1) % 3 != 0 }.map(Int64.init)
        let theirs = (1...30).filter { ($0 - 1) % 3 == 0 }.map(Int64.init)
        let a = first.read(events: ours.count, timeout: 10).events
        let b = second.read(events: ours.count, timeout: 10).events
        let c = other.read(events: theirs.count, timeout: 10).events
        #expect(a.map(\.id) == ours)
        #expect(b.map(\.id) == ours)
        #expect(a.map(\.data) == b.map(\.data), "streams of one subscription receive the same events")
        #expect(c.map(\.id) == theirs)
        #expect(!c.contains { $0.data.contains("510108001001") }, "no event of the other district leaks through sharing")

        // Both subscriptions' disclosures are in the audit log, under their own actor.
        for (id, positions) in [(chenghuaID, ours), (raopingID, theirs)] {
            let audit = try await httpRequest(hub.base + "/v1/audit?actor=subscription:\(id)&limit=1000", token: hub.adminToken)
            let entries = try #require(try audit.json()["entries"] as? [[String: Any]])
            let streamed = entries.filter { $0["channel"] as? String == "stream" }
            #expect(!streamed.isEmpty)
            let last = streamed.compactMap { ($0["last_position"] as? NSNumber)?.int64Value }.max()
            #expect(last == positions.last, "the audit covers the last event streamed to \(id)")
        }
    }

    @Test func aStreamOpenedAfterTheSubscriptionChangedDoesNotShareTheOldView() async throws {
        let hub = try FeedTesting.hub()
        let (id, token, _) = try await FeedTesting.subscribe(hub, Self.spec(area: "510108"))
        let before = try SSEReader(url: hub.base + "/v1/feed/stream", token: token)
        defer { before.close() }
        // Wait until the first stream is registered, so both streams are open at once.
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<1) { _ in "510108001001" })
        #expect(before.read(events: 1, timeout: 10).events.map(\.id) == [1])

        let update = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "PUT", token: hub.adminToken,
                                           body: try JSONSerialization.data(withJSONObject: Self.spec(area: "440524")))
        #expect(update.status == 200, "\(update.text)")
        let after = try SSEReader(url: hub.base + "/v1/feed/stream", token: token, lastEventID: "1")
        defer { after.close() }
        try FeedTesting.append(hub, FeedTesting.personEvents(1..<11) { $0 % 2 == 0 ? "440524001001" : "510108001001" })
        let newView = after.read(events: 5, timeout: 10).events
        #expect(newView.map(\.id) == [3, 5, 7, 9, 11], "the new stream sees the new area only")
        #expect(!newView.contains { $0.data.contains("510108001001") })
    }
}
