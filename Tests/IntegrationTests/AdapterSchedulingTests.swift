import Adapters
import Foundation
import Testing
@testable import Hub

/// The scheduler against a real database: backoff on retriable failures and recovery, failing on
/// permanent ones until an admin acts, and garbage from one department not stopping another.
@Suite struct AdapterSchedulingTests {
    @Test func retriableFailuresBackOffInStateDegradedAndRecoverOnTheirOwn() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        department.failNext(PullFailure(.retriable, "HTTP 503 from the register"), PullFailure(.retriable, "connection refused"),
                            PullFailure(.retriable, "HTTP 429", retryAfter: 0.5))
        // The retry after the first failure waits at the department until the test has seen the state.
        department.closeGate(afterRequests: 1)
        let hub = try pullHub(backoff: Backoff(base: 0.3, maximum: 2))
        #expect(try await hub.post("/v1/adapters", PolicePages.declaration(department, every: "1h")).status == 201)
        #expect(try await eventually { department.isWaitingAtGate })
        let degraded = try await hub.adapterStatus("police-hukou")
        #expect(degraded.state == "degraded")
        #expect((degraded["last_error"] as? String)?.contains("503") == true)
        #expect(degraded["failures"] as? Int == 1)
        department.openGate()
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        let recovered = try await hub.adapterStatus("police-hukou")
        #expect(recovered.state == "running")
        #expect(recovered["failures"] as? Int == 0)
        #expect(recovered.checkpoint == "3")
        // Three failures, then the four requests of a successful run; the waits grew between failures.
        let log = department.requestLog
        #expect(log.count == 7)
        #expect(log.prefix(4).allSatisfy { $0.checkpoint == nil })
        #expect(recovered.counter("records_in") == PolicePages.items.count)
    }

    @Test func permanentFailuresStopTheAdapterUntilAnAdminResumesIt() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        department.failNext(PullFailure(.permanent, "HTTP 401: the register refused our credentials"))
        let hub = try pullHub()
        #expect(try await hub.post("/v1/adapters", PolicePages.declaration(department, every: "1s")).status == 201)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou").state == "failing" })
        let failing = try await hub.adapterStatus("police-hukou")
        #expect((failing["last_error"] as? String)?.contains("401") == true)
        #expect(failing["next_run_at"] is NSNull)
        // No more runs, and run-now is refused, until an admin resumes it.
        try await Task.sleep(nanoseconds: 1_500_000_000)
        #expect(department.requestLog.count == 1)
        #expect(try await hub.post("/v1/adapters/police-hukou/run").status == 409)
        #expect(try await hub.post("/v1/adapters/police-hukou/resume").status == 200)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou").checkpoint == "3" })
        #expect(try await hub.adapterStatus("police-hukou").state == "running")
    }

    @Test func settingsThatCannotWorkAreAPermanentFailure() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        let variable = "RECORDONCE_TEST_FAKE_PASSWORD_\(UInt32.random(in: 0...UInt32.max))"
        setenv(variable, "s3cret", 1)
        let hub = try pullHub(adminToken: "shared-admin-token")
        #expect(try await hub.post("/v1/adapters", PolicePages.declaration(department, every: "1h", extra: ", password: { env: \"\(variable)\" }")).status == 201)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        // The variable disappears (a redeploy without it): the next run cannot build its source.
        unsetenv(variable)
        // The scheduler read its environment at start; a fresh hub on the same database sees the loss.
        let url = hub.hub.databaseURL
        hub.hub.stop()
        let second = try pullHub(databaseURL: url, adminToken: "shared-admin-token")
        #expect(try await second.post("/v1/adapters/police-hukou/run").status == 202)
        #expect(try await eventually { try await second.adapterStatus("police-hukou").state == "failing" })
        #expect((try await second.adapterStatus("police-hukou")["last_error"] as? String)?.contains("does not resolve") == true)
        #expect(!(try await second.adapterStatus("police-hukou")["last_error"] as? String ?? "").contains("s3cret"))
    }

    @Test func aDepartmentSendingGarbageFailsAloneAndOthersKeepRunning() async throws {
        let garbage = FakeDepartment.make(pages: [PolicePages.allRejected(count: 3)])
        let truncated = FakeDepartment.make(pages: [Array(#"{"code":0,"data":{"items":[{"GMSFHM":"#.utf8)])
        let healthy = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        let hub = try pullHub()
        // Three adapters on the police mapping would clash on its source.adapter; register the
        // healthy one as police-hukou and the broken ones one after the other against it.
        #expect(try await hub.post("/v1/adapters", PolicePages.declaration(garbage, every: "1h")).status == 201)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou").state == "failing" })
        let rejected = try await hub.adapterStatus("police-hukou")
        #expect((rejected["last_error"] as? String)?.contains("every record") == true, "\(rejected)")
        #expect(rejected.counter("rejected") == 3)
        // The rejects are kept for a retry once the mapping is fixed.
        let rejects = try await httpRequest(hub.base + "/v1/rejects?adapter=police-hukou", token: hub.adminToken).json()
        #expect((rejects["rejects"] as? [Any])?.count == 3)

        #expect(rejected.checkpoint == "1")   // the rejected page was stored with its checkpoint

        // A changed declaration clears failing and runs at once; this department sends a truncated body.
        #expect(try await hub.post("/v1/adapters/police-hukou/checkpoint", #"{"checkpoint": null}"#, method: "PUT").status == 200)
        #expect(try await hub.post("/v1/adapters/police-hukou", PolicePages.declaration(truncated, every: "1h"), method: "PUT").status == 200)
        #expect(try await eventually { (try await hub.adapterStatus("police-hukou")["last_error"] as? String)?.contains("cannot be read") == true })
        #expect(try await hub.adapterStatus("police-hukou").state == "failing")
        #expect(try await hub.adapterStatus("police-hukou").checkpoint == nil)   // an unreadable page stores nothing

        // The hub is unharmed: the healthy department pulls fine after both.
        #expect(try await hub.post("/v1/adapters/police-hukou", PolicePages.declaration(healthy, every: "1h"), method: "PUT").status == 200)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        #expect(try await hub.adapterStatus("police-hukou").state == "running")
        #expect(try await httpRequest(hub.base + "/readyz").status == 200)
    }

    @Test func pausingStopsARunAfterItsCurrentPage() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 1))
        department.closeGate(atPage: 2)
        let hub = try pullHub(lease: 0.9)
        #expect(try await hub.post("/v1/adapters", PolicePages.declaration(department, every: "1h")).status == 201)
        // The run waits in the department for page 3; meanwhile an admin pauses the adapter.
        #expect(try await eventually { department.isWaitingAtGate })
        #expect(try await hub.post("/v1/adapters/police-hukou/pause").json().state == "paused")
        try await Task.sleep(nanoseconds: 1_500_000_000)   // several lease renewals: the run learns of the pause
        department.openGate()
        // The current page is finished, no further one. (The lease is not renewed for a paused
        // adapter, so running_now turns false by itself within the lease.)
        #expect(try await eventually { department.storedLog.count >= 3 })
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_run_at"] is String })
        try await Task.sleep(nanoseconds: 800_000_000)
        #expect(department.storedLog == ["1", "2", "3"])
        let paused = try await hub.adapterStatus("police-hukou")
        #expect(paused.state == "paused")
        #expect(paused.checkpoint == "3")
        // Resume continues from the checkpoint, never from the start.
        #expect(try await hub.post("/v1/adapters/police-hukou/resume").status == 200)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        #expect(department.storedLog == (1...PolicePages.items.count).map(String.init))
    }
}
