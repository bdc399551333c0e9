import Adapters
import Foundation
import Store
import Testing
@testable import Hub

/// Leases in PostgreSQL: one claimer per adapter, takeover after a dead owner's lease expires,
/// and two hubs on one database never running one adapter at once.
@Suite struct AdapterLeaseTests {
    static func pullAdapter(_ store: AdapterRunStore, id: String = "police-hukou") throws {
        try store.save(id: id, declaration: "{}", origin: "api", file: nil, pullKind: "fake", pullEvery: 60)
    }

    @Test func concurrentClaimersGetAnAdapterOnceAndTakeOverAnExpiredLease() throws {
        let pool = ConnectionPool(url: try TestDatabase.migrated(Schema.migrations), maxConnections: 8)
        defer { pool.close() }
        let store = AdapterRunStore(pool: pool)
        try Self.pullAdapter(store)
        try store.save(id: "push-only", declaration: "{}", origin: "api", file: nil, pullKind: nil, pullEvery: nil)

        let winners = LockedList()
        DispatchQueue.concurrentPerform(iterations: 8) { i in
            let claims = (try? store.claimDue(owner: "hub-\(i)", leaseSeconds: 0.6, limit: 5)) ?? []
            for claim in claims { winners.append("hub-\(i):\(claim.id)") }
        }
        #expect(winners.items.count == 1, "\(winners.items)")
        let owner = try #require(winners.items.first?.split(separator: ":").first.map(String.init))
        #expect(try store.claimDue(owner: "late", leaseSeconds: 0.6, limit: 5).isEmpty)
        #expect(try store.renew(owner: "late", held: ["police-hukou": 1], leaseSeconds: 0.6).isEmpty)
        #expect(try store.renew(owner: owner, held: ["police-hukou": 1], leaseSeconds: 0.6) == ["police-hukou"])
        #expect(try store.renew(owner: owner, held: ["police-hukou": 2], leaseSeconds: 0.6).isEmpty)   // changed meanwhile

        // The owner dies: nobody renews. After the lease runs out another process takes over, and
        // the dead owner's late report changes nothing.
        Thread.sleep(forTimeInterval: 0.8)
        #expect(try store.claimDue(owner: "survivor", leaseSeconds: 30, limit: 5).map(\.id) == ["police-hukou"])
        #expect(try store.finish(id: "police-hukou", owner: owner, revision: 1, counts: PageCounts(records: 5), end: .failed(reason: "x")) == false)
        let status = try #require(try store.status(id: "police-hukou"))
        #expect(status.leaseOwner == "survivor")
        #expect(status.state == .running)
        #expect(status.counts.records == 0)
        #expect(try store.finish(id: "police-hukou", owner: "survivor", revision: 1, counts: PageCounts(records: 2, accepted: 2),
                                 end: .succeeded(caughtUp: true, every: 60)))
        let done = try #require(try store.status(id: "police-hukou"))
        #expect(done.leaseOwner == nil)
        #expect(done.counts.accepted == 2)
        #expect((done.nextRunAt?.timeIntervalSince(done.readAt) ?? 0) > 50)
    }

    /// Two Hub instances in one test process (each with its own scheduler, pool and lease owner)
    /// on one database. "Killing" a hub closes its database pool under its running pull: from
    /// the database's point of view it is gone, as after kill -9.
    @Test func twoHubsOnOneDatabaseRunEachAdapterOnceAndTheSurvivorTakesOver() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 1))
        department.setPageDelay(0.05)
        let url = try TestDatabase.migrated(Schema.migrations)
        let a = try pullHub(databaseURL: url, adminToken: "shared-admin-token", owner: "hub-A", kind: FakePullKind.self, lease: 10)
        let b = try pullHub(databaseURL: url, adminToken: "shared-admin-token", owner: "hub-B", kind: OtherHubFakePullKind.self, lease: 10)
        // Registered through A; B picks the registration up from the database.
        #expect(try await a.post("/v1/adapters", PolicePages.declaration(department, every: "1s")).status == 201)
        #expect(try await eventually { try await b.adapterStatus("police-hukou")["id"] as? String == "police-hukou" })
        let caughtUp = try await eventually { department.storedLog.count == PolicePages.items.count }
        let afterFirstRun = try await a.adapterStatus("police-hukou")
        #expect(caughtUp, "\(department.storedLog) \(department.runLog) \(afterFirstRun)")
        // Several runs (every second, whichever hub claims first), never two at once.
        #expect(try await eventually { department.runLog.count >= 4 })
        #expect(department.maxConcurrentRuns == 1, "runs: \(department.runLog)")

        // More pages; the run that takes them stops at the third, waiting in the department. Kill
        // the hub running it, then let the department answer: the dead hub cannot store the page.
        let gatePage = PolicePages.items.count + 2
        department.closeGate(atPage: gatePage)
        for item in PolicePages.items { department.append(PolicePages.page([item])) }
        let total = PolicePages.items.count * 2
        #expect(try await eventually { department.isWaitingAtGate })
        let owner = try #require(try await a.adapterStatus("police-hukou")["lease_owner"] as? String)
        let (victim, survivor, survivorLabel) = owner == "hub-A" ? (a, b, "B") : (b, a, "A")
        let runsBefore = department.runLog.count
        let killed = Date()
        victim.hub.pool.close()
        department.openGate()
        #expect(try await eventually(timeout: 45) { department.storedLog.last == String(total) })
        let takeover = department.runLog.dropFirst(runsBefore)
        #expect(takeover.contains(survivorLabel), "runs after the kill: \(Array(takeover))")
        let status = try await survivor.adapterStatus("police-hukou")
        #expect(try await eventually { try await survivor.adapterStatus("police-hukou").checkpoint == String(total) }, "\(status)")
        // Every page was stored once, in order: the dead hub's last page was not, the survivor took it.
        let stored = department.storedLog
        #expect(stored == (1...total).map(String.init), "\(stored)")
        // The dead hub asked for the gate page once; then only the survivor did (more than once
        // when a loaded machine made its own run give up a lease it could not renew in time).
        let retries = department.requestLog.filter { $0.checkpoint == String(gatePage) }
        let victimLabel = owner == "hub-A" ? "A" : "B"
        #expect(retries.first?.hub == victimLabel && retries.filter { $0.hub == victimLabel }.count == 1
                && retries.dropFirst().allSatisfy { $0.hub == survivorLabel } && retries.count >= 2,
                "requests for page \(gatePage): \(retries.map(\.hub))")
        // Taken over once the lease ran out (plus a scheduler tick), not sooner, not much later.
        // The lease is 10 s: with 3 s, the whole suite on two cores sometimes starved the waiting
        // run past 90% of its lease, so it gave the adapter up before the kill.
        let takeoverSeconds = (retries.first { $0.hub == survivorLabel }?.at.timeIntervalSince(killed) ?? -1)
        #expect(takeoverSeconds > 5 && takeoverSeconds < 40, "taken over after \(takeoverSeconds) s")
    }
}

final class LockedList: @unchecked Sendable {
    private let lock = NSLock()
    private var values: [String] = []
    func append(_ value: String) { lock.withLock { values.append(value) } }
    var items: [String] { lock.withLock { values } }
}
