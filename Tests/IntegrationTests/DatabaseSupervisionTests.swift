import Catalog
import Foundation
import Store
import Testing
@testable import Hub

/// kill -9 of the embedded PostgreSQL's postmaster under a running hub, twice, while departments
/// push and a pull runs: the hub restarts its cluster, becomes ready by itself, and the change log
/// holds every record the senders were told was accepted, each exactly once.
@Suite(.serialized) struct DatabaseSupervisionTests {
    static let token = "police-push-token-supervision"

    /// A police register record of a person heading a household of their own (one Person and one
    /// Household entity per record, so every entity changes exactly once).
    static func person(_ i: Int) -> [String: String] {
        let first17 = "510108" + String(format: "%04d%02d%02d", 1940 + i % 70, 1 + i % 12, 1 + i % 28) + String(format: "%03d", i % 1000)
        return ["HH": "5101089\(String(format: "%05d", i))", "HB": "家庭户", "DJJG": "成都市公安局成华区分局猛追湾派出所",
                "ZZ": "四川省成都市成华区猛追湾街道示例路1号", "SQ": "510108001001", "XM": "居民\(i)", "XB": "1", "MZ": "01",
                "CSRQ": String(format: "%04d%02d%02d", 1940 + i % 70, 1 + i % 12, 1 + i % 28),
                "GMSFHM": first17 + String(CitizenID.checkCharacter(for: first17)!), "YHZGX": "户主", "WHCD": "20", "HYZK": "20", "ZXBS": "0"]
    }

    static func page(_ items: [[String: String]]) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: ["code": 0, "data": ["page": 1, "items": items]]))
    }

    /// What the senders were told: the citizen IDs of every batch answered 200 with nothing rejected.
    final class Told: @unchecked Sendable {
        private let lock = NSLock()
        private var ids: Set<String> = []
        private var batches = 0
        private var failures = 0
        private var statuses: Set<Int> = []
        func accepted(_ batch: [String]) { lock.withLock { ids.formUnion(batch); batches += 1 } }
        func failed(status: Int?) { lock.withLock { failures += 1; if let status { statuses.insert(status) } } }
        /// The HTTP statuses of refused attempts (connections refused or cut count as none).
        var failureStatuses: Set<Int> { lock.withLock { statuses } }
        var acceptedIDs: Set<String> { lock.withLock { ids } }
        var acceptedBatches: Int { lock.withLock { batches } }
        var failedAttempts: Int { lock.withLock { failures } }
    }

    /// Pushes `batches` until each is answered 200, retrying like a department system would
    /// (the push is idempotent, so a batch whose answer was lost may be sent again).
    static func send(_ batches: [[[String: String]]], to url: String, told: Told) async {
        for batch in batches {
            while true {
                let response = try? await httpRequest(url, method: "POST", token: token, body: Data(page(batch)))
                if let response, response.status == 200, let totals = (try? response.json())?["totals"] as? [String: Int],
                   totals["rejected"] == 0, (totals["accepted"] ?? 0) + (totals["unchanged"] ?? 0) == batch.count {
                    told.accepted(batch.map { $0["GMSFHM"]! })
                    break
                }
                told.failed(status: response?.status)
                try? await Task.sleep(nanoseconds: 100_000_000)
            }
        }
    }

    static func killPostmaster(_ hub: TestHub) throws -> Int32 {
        let pid = try #require(hub.hub.embeddedDatabase?.livePostmasterID)
        #expect(kill(pid, SIGKILL) == 0)
        return pid
    }

    /// Waits for /readyz to answer 200 again from a new postmaster; any 503 seen meanwhile must
    /// name no path. On a loaded machine the restart (about a second) can fall between two polls,
    /// so the outage itself is then proven by the supervisor's crash counter in /metrics.
    static func expectOutageThenReady(_ hub: TestHub, killed pid: Int32) async throws {
        var sawUnavailable = false
        let recovered = try await eventually(timeout: 90) {
            guard let ready = try? await httpRequest(hub.base + "/readyz") else { return false }
            if ready.status == 503 {
                sawUnavailable = true
                let reason = try ready.json()["reason"] as? String ?? ""
                #expect(!reason.contains("/"), "readyz names a path: \(reason)")
            }
            return ready.status == 200 && hub.hub.embeddedDatabase?.livePostmasterID.map { $0 != pid } == true
        }
        #expect(recovered, "the hub did not become ready again after the postmaster was killed")
        if !sawUnavailable {
            let metrics = try await httpRequest(hub.base + "/metrics").text
            let crashes = metrics.split(separator: "\n").first { $0.hasPrefix("recordonce_embedded_database_crashes_total ") }
            #expect((crashes?.split(separator: " ").last).flatMap { Int($0) } ?? 0 > 0,
                    "/readyz never answered 503 and /metrics counts no crash: \(crashes ?? "no counter")")
        }
    }

    @Test func killingThePostmasterDuringPushesAndAPullLosesAndDoublesNothing() async throws {
        let pullPages = (0..<24).map { p in Self.page((0..<5).map { Self.person(10_000 + p * 5 + $0) }) }
        let department = FakeDepartment.make(pages: pullPages)
        department.setPageDelay(0.05)
        // The pull waits until the webhook subscription exists, then is held at page 9 so that
        // the first kill lands mid-run.
        department.closeGate(atPage: 0)
        let hub = try TestHub(embedded: true, adapters: [
            "police.json5": """
                { id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { file: "police.token" },
                  pull: { kind: "fake", every: "1h", department: "\(department.name)" } }
                """,
        ], beforeStart: { folder in
            try Self.token.write(toFile: folder + "/adapters/police.token", atomically: true, encoding: .utf8)
        }, configure: { config in
            // Crash recovery keeps what was committed only when commits wait for the WAL.
            config.durableEmbeddedDatabase = true
            config.pullKinds = [FakePullKind.self]
            config.scheduler.tickSeconds = 0.1
            config.scheduler.leaseSeconds = 2
            config.scheduler.backoff = .init(base: 0.2, maximum: 1)
            config.adapterRefreshSeconds = 0.2
            config.feed.webhooks.initialBackoff = 0.05
            config.feed.webhooks.maxBackoff = 0.5
        })
        #expect(try await httpRequest(hub.base + "/readyz").status == 200)
        // A community platform takes every Person event by webhook all along.
        let receiver = try WebhookReceiver()
        defer { receiver.stop() }
        _ = try await FeedTesting.subscribe(hub, ["name": "Grid app", "purpose": "grid work (statutory duty)", "resources": ["Person"],
                                                  "delivery": ["mode": "webhook", "url": receiver.url]])
        department.moveGate(toPage: 8)

        // Three departments' senders, 25 batches of 8 each; the pull runs meanwhile.
        let told = Told()
        let url = hub.base + "/v1/ingest/police-hukou"
        let senders = (0..<3).map { s in
            let batches = (0..<25).map { b in (0..<8).map { Self.person(s * 1_000 + b * 8 + $0) } }
            return Task { await Self.send(batches, to: url, told: told) }
        }
        #expect(try await eventually(timeout: 60) { told.acceptedBatches >= 15 && department.isWaitingAtGate })
        let first = try Self.killPostmaster(hub)
        department.openGate()
        try await Self.expectOutageThenReady(hub, killed: first)
        #expect(try await eventually(timeout: 60) { told.acceptedBatches >= 45 })
        let second = try Self.killPostmaster(hub)
        try await Self.expectOutageThenReady(hub, killed: second)
        for sender in senders { await sender.value }
        #expect(told.acceptedBatches == 75)
        #expect(told.failedAttempts > 0, "no push was refused: the postmaster died between pushes, not during them")
        // While the database is down a push is answered 503 (send it again), never 500.
        #expect(told.failureStatuses.isSubset(of: [503]), "\(told.failureStatuses)")

        // The pull resumes from its checkpoint and finishes.
        #expect(try await eventually(timeout: 60) {
            try await httpRequest(hub.base + "/v1/adapters/police-hukou", token: hub.adminToken).json()["checkpoint"] as? String == "24"
        })
        // The LISTEN connection came back too: a long-poll is woken by a commit of another
        // process (NOTIFY alone, not this process's writers), well before its deadline.
        let (_, token, _) = try await FeedTesting.subscribe(hub, ["name": "Community", "purpose": "community services (statutory duty)",
                                                                  "resources": ["Person"]])
        let head = try PostgresConnection(url: hub.hub.databaseURL).query("SELECT position FROM change_log_head")[0].decode(Int64.self, "position")
        let started = Date()
        async let woken = httpRequest(hub.base + "/v1/feed?after=\(head)&wait=20", token: token)
        try await Task.sleep(nanoseconds: 300_000_000)
        try PostgresConnection(url: hub.hub.databaseURL).transaction { c in
            try ChangeLog.append(FeedTesting.personEvents(900_000..<900_001) { _ in "510108001001" }, in: c)
        }
        let wokenEvents = try await woken.json()["events"] as? [[String: Any]] ?? []
        #expect(wokenEvents.count == 1)
        #expect(Date().timeIntervalSince(started) < 10)

        let metrics = try await httpRequest(hub.base + "/metrics").text
        #expect(metrics.contains("recordonce_embedded_database_crashes_total 2"))
        #expect(metrics.contains("recordonce_embedded_database_up 1"))

        let db = try PostgresConnection(url: hub.hub.databaseURL)
        // Every accepted push and every pulled record is a person, each created once in the change log.
        let pulled = Set((10_000..<10_120).map { Self.person($0)["GMSFHM"]! })
        let persons = try db.query("""
            SELECT e.identity_key, count(l.position) AS events, min(l.version) AS first, max(l.version) AS last
            FROM entities e LEFT JOIN change_log l ON l.entity_id = e.id::text
            WHERE e.resource = 'Person' GROUP BY e.identity_key
            """).rows
        let stored = Set(persons.compactMap { $0[0] })
        let expected = told.acceptedIDs.union(pulled)
        #expect(told.acceptedIDs.count == 600)
        #expect(stored == expected, "lost: \(expected.subtracting(stored).count), unexpected: \(stored.subtracting(expected).count)")
        let doubled = persons.filter { row in [row[1], row[2], row[3]] != ["1", "1", "1"] }
        #expect(doubled.isEmpty, "\(doubled.count) persons with other than one creation event")
        // Webhook delivery resumed where its stored position said: every Person event arrived, in
        // order; one may arrive again when the crash came between its delivery and its bookkeeping.
        let personPositions = try db.query("SELECT position FROM change_log WHERE resource = 'Person' ORDER BY position").rows
            .compactMap { Int64($0[0] ?? "") }
        #expect(personPositions.count == 721)
        var delivered: [Int64] = []
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            delivered = receiver.wait(for: personPositions.count, timeout: 1).map(\.position)
            if Set(delivered).count >= personPositions.count { break }
            usleep(100_000)
        }
        var firstDeliveries: [Int64] = []
        var seen = Set<Int64>()
        for position in delivered where seen.insert(position).inserted { firstDeliveries.append(position) }
        #expect(firstDeliveries == personPositions)
        // The change log itself has no gap and no repeated position.
        let log = try db.query("SELECT count(*) AS n, count(DISTINCT position) AS d, min(position) AS lo, max(position) AS hi FROM change_log").rows[0]
        let count = Int(log[0] ?? "") ?? -1, distinct = Int(log[1] ?? "") ?? -2
        let low = Int(log[2] ?? "") ?? 0, high = Int(log[3] ?? "") ?? 0
        #expect(count == distinct)
        #expect(high - low + 1 == count)
    }
}
