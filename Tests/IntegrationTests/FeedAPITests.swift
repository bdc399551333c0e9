import Feed
import Foundation
@testable import Hub
import Store
import Testing

/// Subscriptions, pull with long-poll, snapshot and audit, through the real server.
@Suite struct FeedAPITests {
    static var community: [String: Any] { ["name": "Community 510108001001", "purpose": "community services (statutory duty)",
                            "resources": ["Person"], "area": ["510108001001"]] }

    @Test func subscriptionLifecycle() async throws {
        let hub = try FeedTesting.hub()
        let (id, token, body) = try await FeedTesting.subscribe(hub, Self.community)
        #expect(id.hasPrefix("sub_") && token.hasPrefix("ro_sub_"))
        #expect(body["status"] as? String == "active")
        // The token is stored hashed: the database never holds it.
        let stored = try hub.hub.pool.withConnection { try $0.query("SELECT count(*) AS n FROM api_tokens WHERE subject = $1 AND kind = 'subscriber'", [id])[0]["n"] }
        #expect(stored == "1")
        let dump = try hub.hub.pool.withConnection { try $0.query("SELECT string_agg(token_hash::text, ',') AS t FROM api_tokens")[0]["t"] ?? "" }
        #expect(!dump.contains(token))

        let shown = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", token: hub.adminToken)
        #expect(shown.status == 200)
        #expect(try shown.json()["token"] == nil, "the token is shown once")
        let list = try await httpRequest(hub.base + "/v1/subscriptions", token: hub.adminToken)
        #expect((try list.json()["subscriptions"] as? [[String: Any]])?.count == 1)

        // Subscribers may not manage subscriptions; admins may not read the feed as a subscriber.
        #expect(try await httpRequest(hub.base + "/v1/subscriptions", token: token).status == 403)
        #expect(try await httpRequest(hub.base + "/v1/feed", token: hub.adminToken).status == 403)
        #expect(try await httpRequest(hub.base + "/v1/feed", token: token).status == 200)

        // Pause: the feed refuses; resume: it serves again.
        let pause = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "PUT", token: hub.adminToken,
                                          body: Data(#"{"status":"paused"}"#.utf8))
        #expect(pause.status == 200)
        #expect(try pause.json()["status"] as? String == "paused")
        #expect(try await httpRequest(hub.base + "/v1/feed", token: token).status == 403)
        _ = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "PUT", token: hub.adminToken,
                                  body: Data(#"{"status":"active","area":["510108002"]}"#.utf8))
        let changed = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", token: hub.adminToken)
        #expect((try changed.json()["area"] as? [String]) == ["510108002"])
        #expect(try await httpRequest(hub.base + "/v1/feed", token: token).status == 200)

        // An invalid change is refused with every problem, and changes nothing.
        let bad = try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "PUT", token: hub.adminToken,
                                        body: Data(#"{"resources":["Nope"],"area":["x"]}"#.utf8))
        #expect(bad.status == 400)
        #expect(bad.text.contains("resources[0]") && bad.text.contains("area[0]"))

        // Delete: the token stops working at once.
        #expect(try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "DELETE", token: hub.adminToken).status == 204)
        #expect(try await httpRequest(hub.base + "/v1/feed", token: token).status == 401)
        #expect(try await httpRequest(hub.base + "/v1/subscriptions/\(id)", token: hub.adminToken).status == 404)
        #expect(try await httpRequest(hub.base + "/v1/subscriptions/\(id)", method: "DELETE", token: hub.adminToken).status == 404)
    }

    @Test func invalidSpecsListEveryProblem() async throws {
        let hub = try FeedTesting.hub()
        let response = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken,
                                             body: Data(#"{"resources":["Person","Ghost"],"masking":{"Person.name":"shout"}}"#.utf8))
        #expect(response.status == 400)
        for path in ["name", "purpose", "resources[1]", "masking[\\\"Person.name\\\"]"] {
            #expect(response.text.contains(path), "\(path) missing from \(response.text)")
        }
        let notJSON = try await httpRequest(hub.base + "/v1/subscriptions", method: "POST", token: hub.adminToken, body: Data("{".utf8))
        #expect(notJSON.status == 400)
    }

    @Test func pullFiltersMasksAndPages() async throws {
        let hub = try FeedTesting.hub()
        let (_, token, _) = try await FeedTesting.subscribe(hub, Self.community)
        // Every third person lives in the community.
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<30) { $0 % 3 == 0 ? "510108001001" : "510108002001" })
        let first = try await httpRequest(hub.base + "/v1/feed?after=0&limit=4", token: token)
        #expect(first.status == 200)
        let body = try first.json()
        let events = try #require(body["events"] as? [[String: Any]])
        #expect(events.map { $0["id"] as? String } == ["1", "4", "7", "10"])
        #expect(body["next"] as? Int == 10)
        let record = try #require((events[0]["data"] as? [String: Any])?["record"] as? [String: Any])
        #expect((record["citizen_id"] as? String)?.contains("*") == true)
        #expect(record["date_of_birth"] == nil && record["political_status"] == nil)
        #expect(!first.text.contains("13800000000"), "a mobile number leaked")

        let rest = try await httpRequest(hub.base + "/v1/feed?after=10&limit=100&format=ndjson", token: token)
        #expect(rest.headers["content-type"] == "application/x-ndjson")
        let lines = rest.text.split(separator: "\n")
        #expect(lines.count == 6)
        #expect(rest.headers["recordonce-next-position"] == "30")
        #expect(try await httpRequest(hub.base + "/v1/feed?limit=0", token: token).status == 400)
        #expect(try await httpRequest(hub.base + "/v1/feed?wait=600", token: token).status == 400)
        #expect(try await httpRequest(hub.base + "/v1/feed?after=-3", token: token).status == 400)
    }

    @Test func longPollIsWokenByNotifyNotByTheDeadline() async throws {
        let hub = try FeedTesting.hub()
        let (_, token, _) = try await FeedTesting.subscribe(hub, Self.community)
        // Nothing there: an empty answer after the wait.
        let started = Date()
        let empty = try await httpRequest(hub.base + "/v1/feed?after=0&wait=0.5", token: token)
        #expect(try empty.json()["events"] as? [Any] != nil && (try empty.json()["events"] as! [Any]).isEmpty)
        #expect(Date().timeIntervalSince(started) >= 0.45)
        // Events outside the area do not answer the poll; one inside does, long before the deadline.
        Thread.detachNewThread {
            usleep(300_000)
            _ = try? FeedTesting.append(hub, FeedTesting.personEvents(0..<1) { _ in "510108009001" })
            usleep(300_000)
            _ = try? FeedTesting.append(hub, FeedTesting.personEvents(1..<2) { _ in "510108001001" })
        }
        let asked = Date()
        let woken = try await httpRequest(hub.base + "/v1/feed?after=0&wait=20", token: token)
        let elapsed = Date().timeIntervalSince(asked)
        let events = try #require(try woken.json()["events"] as? [[String: Any]])
        #expect(events.map { $0["id"] as? String } == ["2"])
        // Woken by the NOTIFY of the second append, long before the 20 s deadline (the bound is
        // loose because the whole suite shares two cores; alone it answers after about 0.6 s).
        #expect(elapsed > 0.5 && elapsed < 15, "answered after \(elapsed) s")
    }

    @Test func snapshotIsScopedMaskedAndCarriesThePosition() async throws {
        let hub = try FeedTesting.hub()
        let (_, token, _) = try await FeedTesting.subscribe(hub, Self.community)
        try hub.hub.pool.transaction { c in
            for i in 0..<12 {
                try c.execute("INSERT INTO entities (resource, identity_key, version, record, provenance) VALUES ('Person', $1, 1, $2::jsonb, '{}')",
                              ["k\(i)", PostgresJSON(FeedTesting.person(i, community: i % 2 == 0 ? "510108001001" : "510108003001"))])
            }
        }
        let head = try FeedTesting.append(hub, FeedTesting.personEvents(0..<3) { _ in "510108001001" })
        var after: String? = nil
        var rows: [[String: Any]] = []
        repeat {
            let url = hub.base + "/v1/resources/Person?limit=4" + (after.map { "&after=\($0)" } ?? "")
            let page = try await httpRequest(url, token: token)
            #expect(page.status == 200, "\(page.text)")
            let body = try page.json()
            #expect(body["position"] as? Int == Int(head))
            rows += body["records"] as? [[String: Any]] ?? []
            after = body["next"] as? String
        } while after != nil
        #expect(rows.count == 6)
        for row in rows {
            let record = try #require(row["record"] as? [String: Any])
            #expect(record["community_code"] as? String == "510108001001")
            #expect((record["mobile"] as? String)?.contains("****") == true)
            #expect(record["political_status"] == nil)
        }
        // Not in the subscription: 403; the admin's ?key= read still works and is audited.
        #expect(try await httpRequest(hub.base + "/v1/resources/Household", token: token).status == 403)
        let admin = try await httpRequest(hub.base + "/v1/resources/Person?key=k0", token: hub.adminToken)
        #expect(admin.status == 200)
        let audit = try await httpRequest(hub.base + "/v1/audit?limit=100", token: hub.adminToken)
        let entries = try #require(try audit.json()["entries"] as? [[String: Any]])
        #expect(entries.contains { $0["channel"] as? String == "snapshot" && ($0["entity_ids"] as? [String])?.count == 4 })
        #expect(entries.contains { $0["channel"] as? String == "admin_read" && $0["actor"] as? String == "admin" })
        #expect(try await httpRequest(hub.base + "/v1/audit", token: token).status == 403)
    }

    /// A large page is audited while its body is made: the entry names every event's entity, and
    /// a page whose audit entry cannot be written is not sent at all.
    @Test func aLargePageIsSentOnlyWithItsAuditEntry() async throws {
        let hub = try FeedTesting.hub()
        let (id, token, _) = try await FeedTesting.subscribe(hub, Self.community)
        let count = FeedReader.concurrentAuditMinimum + 200
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<count) { _ in "510108001001" })
        let page = try await httpRequest(hub.base + "/v1/feed?limit=\(count)&format=ndjson", token: token)
        #expect(page.status == 200)
        #expect(page.text.split(separator: "\n").count == count)
        let stored = try hub.hub.pool.withConnection { c in
            try c.query("SELECT cardinality(entity_ids) AS n, first_position, last_position FROM audit_log WHERE actor = $1",
                        ["subscription:" + id])
        }
        #expect(stored.count == 1)
        #expect(stored.first?["n"] == String(count) && stored.first?["first_position"] == "1" && stored.first?["last_position"] == String(count))

        // The audit log refuses new rows: the page is answered with an error, and no event leaves.
        try hub.hub.pool.withConnection { try $0.execute("ALTER TABLE audit_log ADD CONSTRAINT refuse_all CHECK (false) NOT VALID") }
        try FeedTesting.append(hub, FeedTesting.personEvents(count..<(2 * count)) { _ in "510108001001" })
        let refused = try await httpRequest(hub.base + "/v1/feed?after=\(count)&limit=\(count)&format=ndjson", token: token)
        #expect(refused.status >= 500)
        #expect(!refused.text.contains("specversion"))
    }

    @Test func auditIsAppendOnlyAndPurgedAfterRetention() async throws {
        let hub = try FeedTesting.hub()
        let (id, token, _) = try await FeedTesting.subscribe(hub, Self.community)
        try FeedTesting.append(hub, FeedTesting.personEvents(0..<5) { _ in "510108001001" })
        _ = try await httpRequest(hub.base + "/v1/feed?limit=5", token: token)
        let audit = try await httpRequest(hub.base + "/v1/audit?actor=subscription:\(id)", token: hub.adminToken)
        let entries = try #require(try audit.json()["entries"] as? [[String: Any]])
        #expect(entries.count == 1)
        #expect(entries.first?["purpose"] as? String == "community services (statutory duty)")
        #expect(entries.first?["first_position"] as? Int == 1 && entries.first?["last_position"] as? Int == 5)
        #expect((entries.first?["fields"] as? [String])?.contains("citizen_id") == true)
        try hub.hub.pool.withConnection { c in
            #expect(throws: PostgresError.self) { try c.execute("UPDATE audit_log SET purpose = 'x'") }
            #expect(throws: PostgresError.self) { try c.execute("DELETE FROM audit_log") }
            #expect(throws: PostgresError.self) { try c.execute("TRUNCATE audit_log") }
            // Purge removes only what is older than the retention.
            #expect(try AuditLog.purge(retentionDays: 1, in: c) == 0)
            try c.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
            try c.execute("UPDATE audit_log SET time = now() - interval '4 years'")
            try c.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
            #expect(throws: PostgresError.self) { try c.execute("DELETE FROM audit_log") }
            #expect(try AuditLog.purge(retentionDays: AuditLog.defaultRetentionDays, in: c) >= 1)
        }
    }
}
