import Foundation
@testable import Hub
import Secrets
import Testing

/// A snapshot taken while departments keep pushing: every page agrees on the first page's
/// position, and the feed after it brings the platform to the current state with no gap
/// (nothing missing at the end) and no overlap (no event for a version it already holds).
@Suite struct FeedSnapshotTests {
    static let policeToken = "feed-snapshot-police-token"
    static let inArea = "510108001001"
    static let outside = "510108002001"

    @Test func pagesAgreeOnOnePositionAndTheFeedContinuesFromItWithoutGapOrOverlap() async throws {
        let sha = Secrets.hex(Secrets.sha256(Self.policeToken))
        let hub = try TestHub(adapters: [
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { sha256: "\#(sha)" } }"#,
        ])
        let (_, token, _) = try await FeedTesting.subscribe(hub, [
            "name": "Street 510108001", "purpose": "community services", "resources": ["Person"], "area": ["510108001"],
        ])
        var people = (0..<40).map { Resident(index: $0, community: $0 % 2 == 0 ? Self.inArea : Self.outside) }
        try await push(hub, people)

        // The first page fixes the position; then the departments push before the next pages.
        let first = try await page(hub, token, after: nil, position: nil)
        let position = try #require(first.body["position"] as? Int)
        #expect(first.rows.count == 7)
        for i in [0, 2, 4] { people[i].community = Self.outside }        // leave the area
        for i in [1, 3] { people[i].community = Self.inArea }            // enter it
        for i in [6, 8, 10, 12] { people[i].mobileSuffix += 1 }          // change a granted field
        people += (40..<45).map { Resident(index: $0, community: Self.inArea) }  // newcomers
        try await push(hub, people)

        var held: [String: (version: Int, record: [String: Any])] = [:]
        for row in first.rows { held[row.id] = (row.version, row.record) }
        var after = first.body["next"] as? String
        while let cursor = after {
            let next = try await page(hub, token, after: cursor, position: position)
            #expect(next.body["position"] as? Int == position, "every page answers the first page's position")
            for row in next.rows { held[row.id] = (row.version, row.record) }
            after = next.body["next"] as? String
        }
        // As of that position: the 20 original residents of the area, each in its first version.
        #expect(held.count == 20)
        #expect(held.values.allSatisfy { $0.version == 1 })

        // Follow the feed from the snapshot's position; apply strictly.
        let feed = try await httpRequest(hub.base + "/v1/feed?after=\(position)&limit=1000", token: token)
        let events = try #require(try feed.json()["events"] as? [[String: Any]])
        #expect(!events.isEmpty)
        for event in events {
            let data = try #require(event["data"] as? [String: Any])
            let id = data["entity_id"] as? String ?? ""
            let version = data["version"] as? Int ?? 0
            switch data["operation"] as? String {
            case "removed":
                #expect(held[id] != nil, "a removal of a record the snapshot did not have")
                held[id] = nil
            case "created":
                #expect(held[id] == nil, "overlap: a creation of a record the snapshot already had")
                held[id] = (version, data["record"] as? [String: Any] ?? [:])
            default:
                if data["area_change"] as? String == "entered" {
                    #expect(held[id] == nil, "overlap: a record entering the area that the snapshot already had")
                } else {
                    let current = try #require(held[id], "gap: an update of a record the snapshot did not have")
                    #expect(version > current.version, "overlap: version \(version) is not newer than \(current.version)")
                }
                held[id] = (version, data["record"] as? [String: Any] ?? [:])
            }
        }

        // The platform now holds exactly what a fresh snapshot shows.
        var now: [String: [String: Any]] = [:]
        var cursor: String?
        repeat {
            let next = try await page(hub, token, after: cursor, position: nil)
            for row in next.rows { now[row.id] = row.record }
            cursor = next.body["next"] as? String
        } while cursor != nil
        #expect(Set(held.keys) == Set(now.keys) && now.count == 20 - 3 + 2 + 5)
        for (id, record) in now {
            #expect(NSDictionary(dictionary: record).isEqual(to: held[id]?.record ?? [:]), "entity \(id) differs after following the feed")
        }

        // A position the feed has not reached is refused.
        let beyond = try await httpRequest(hub.base + "/v1/resources/Person?position=999999", token: token)
        #expect(beyond.status == 400 && beyond.text.contains("position"))
    }

    func push(_ hub: TestHub, _ people: [Resident]) async throws {
        let body = try JSONSerialization.data(withJSONObject: ["code": 0, "data": ["page": 1, "items": people.map(\.policeItem)]])
        let response = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: Self.policeToken, body: body)
        #expect(response.status == 200, "\(response.text)")
        #expect((try response.json()["totals"] as? [String: Int])?["rejected"] == 0, "\(response.text)")
    }

    func page(_ hub: TestHub, _ token: String, after: String?, position: Int?) async throws
        -> (body: [String: Any], rows: [(id: String, version: Int, record: [String: Any])]) {
        var url = hub.base + "/v1/resources/Person?limit=7"
        if let after { url += "&after=\(after)" }
        if let position { url += "&position=\(position)" }
        let response = try await httpRequest(url, token: token)
        #expect(response.status == 200, "\(response.text)")
        let body = try response.json()
        let rows = (body["records"] as? [[String: Any]] ?? []).map {
            (id: $0["entity_id"] as? String ?? "", version: $0["version"] as? Int ?? 0, record: $0["record"] as? [String: Any] ?? [:])
        }
        return (body, rows)
    }
}
