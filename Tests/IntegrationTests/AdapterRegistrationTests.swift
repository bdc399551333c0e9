import Adapters
import Foundation
import Testing
@testable import Hub

/// `/v1/adapters` through the real server: validation, register, token, push, pause, resume,
/// remove, and checkpoint rewind.
@Suite struct AdapterRegistrationTests {
    @Test func aRegistrationWithManyProblemsGetsThemAllAtOnce() async throws {
        let hub = try pullHub()
        let bad = """
            {
              id: "police-hukou",
              department: "polise",
              mapping: "no-such-mapping.json5",
              token: { env: "RECORDONCE_TEST_UNSET_VARIABLE" },
              pull: { kind: "ftp", every: "soon" },
            }
            """
        let response = try await hub.post("/v1/adapters", bad)
        #expect(response.status == 422, "\(response.text)")
        let error = try #require(try response.json()["error"] as? [String: Any])
        #expect(error["code"] as? String == "invalid_adapter")
        let problems = try #require(error["problems"] as? [[String: Any]])
        let byPath = Dictionary(grouping: problems, by: { $0["path"] as? String ?? "" })
        #expect(Set(byPath.keys) == ["department", "mapping", "token", "pull.kind", "pull.every"], "\(problems)")
        #expect(byPath["department"]?.first?["line"] as? Int == 3)
        #expect(byPath["pull.every"]?.first?["line"] as? Int == 6)
        #expect((byPath["token"]?.first?["message"] as? String)?.contains("RECORDONCE_TEST_UNSET_VARIABLE") == true)
        #expect((byPath["pull.kind"]?.first?["message"] as? String)?.contains("fake") == true)

        // A known kind whose settings it rejects, and a secret inside pull that does not resolve.
        let badSettings = """
            { id: "police-hukou", department: "police", mapping: "police-hukou.json5",
              pull: { kind: "fake", every: 30, colour: "blue", password: { file: "missing.secret" } } }
            """
        let second = try await hub.post("/v1/adapters", badSettings)
        #expect(second.status == 422)
        let paths = Set(((try second.json()["error"] as? [String: Any])?["problems"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String })
        #expect(paths == ["pull.colour", "pull.department", "pull.password"], "\(second.text)")

        // A mapping that belongs to another adapter does not validate for this one.
        let wrongMapping = #"{ id: "health-records", department: "health", mapping: "police-hukou.json5" }"#
        let third = try await hub.post("/v1/adapters", wrongMapping)
        #expect(third.status == 422)
        #expect(third.text.contains("\"path\":\"mapping\""))
        // Nothing was registered.
        let list = try await httpRequest(hub.base + "/v1/adapters", token: hub.adminToken).json()
        #expect((list["adapters"] as? [Any])?.isEmpty == true)
    }

    @Test func registerPushPauseResumeAndRemoveAPushAdapter() async throws {
        let hub = try pullHub()
        let declaration = #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", description: "户籍" }"#
        #expect(try await httpRequest(hub.base + "/v1/adapters", method: "POST", body: Data(declaration.utf8)).status == 401)
        let created = try await hub.post("/v1/adapters", declaration)
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json().state == "running")
        #expect(try created.json()["pull"] is NSNull)
        #expect(try await hub.post("/v1/adapters", declaration).status == 409)

        // A department token, shown once; pushes with it work without a restart.
        let issued = try await hub.post("/v1/adapters/police-hukou/token")
        #expect(issued.status == 201)
        let token = try #require(try issued.json()["token"] as? String)
        #expect(try await httpRequest(hub.base + "/v1/adapters", token: token).status == 403)
        let push = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: token, body: Data(PolicePages.page(PolicePages.items)))
        #expect(push.status == 200, "\(push.text)")
        let status = try await hub.adapterStatus("police-hukou")
        #expect(status.counter("records_in") == PolicePages.items.count)
        #expect(status.counter("accepted") + status.counter("rejected") + status.counter("skipped") == PolicePages.items.count)
        #expect(status["lag_seconds"] is Double || status["lag_seconds"] is Int)
        #expect(status["description"] as? String == "户籍")

        #expect(try await hub.post("/v1/adapters/police-hukou/pause").json().state == "paused")
        #expect(try await hub.post("/v1/adapters/police-hukou/resume").json().state == "running")
        #expect(try await hub.post("/v1/adapters/police-hukou/run").status == 409)   // push-only
        #expect(try await hub.post("/v1/adapters/nope/pause").status == 404)

        // A replacement must keep the id the URL names.
        let renamed = try await hub.post("/v1/adapters/police-hukou", declaration.replacingOccurrences(of: "\"police-hukou\", department", with: "\"other\", department"), method: "PUT")
        #expect(renamed.status == 422)
        let replaced = try await hub.post("/v1/adapters/police-hukou", declaration.replacingOccurrences(of: "户籍", with: "户籍系统"), method: "PUT")
        #expect(replaced.status == 200)
        #expect(try replaced.json()["revision"] as? Int == 2)

        #expect(try await hub.post("/v1/adapters/police-hukou", method: "DELETE").status == 204)
        #expect(try await hub.post("/v1/adapters/police-hukou", method: "DELETE").status == 404)
        #expect(try await httpRequest(hub.base + "/v1/adapters/police-hukou", token: hub.adminToken).status == 404)
        // The token went with the adapter, and pushes to it are refused.
        #expect(try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: token, body: Data(PolicePages.page([]))).status == 401)
        #expect(try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: hub.adminToken, body: Data(PolicePages.page([]))).status == 404)
    }

    @Test func aPullAdapterRunsStoresItsCheckpointAndCanBeRewound() async throws {
        // Three pages of four; no page is all rejects (that would stop the adapter: see AdapterSchedulingTests).
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        let hub = try pullHub()
        let created = try await hub.post("/v1/adapters", PolicePages.declaration(department, every: "1h"))
        #expect(created.status == 201, "\(created.text)")
        let total = PolicePages.items.count
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        var status = try await hub.adapterStatus("police-hukou")
        #expect(status.checkpoint == "3")
        #expect(status.state == "running", "\(status)")
        #expect(status.counter("records_in") == total)
        let accepted = status.counter("accepted")
        #expect(accepted > 0)
        #expect(department.storedLog == ["1", "2", "3"])
        #expect(department.requestLog.map(\.checkpoint) == [nil, "1", "2", "3"])
        let person = try await httpRequest(hub.base + "/v1/resources/person?key=510108196503140114", token: hub.adminToken)
        #expect(person.status == 200)

        // Rewind to page 2: the next run re-pulls pages 3 on, which landing finds unchanged.
        #expect(try await hub.post("/v1/adapters/police-hukou/checkpoint", #"{"checkpoint": "2"}"#, method: "PUT").status == 200)
        #expect(try await eventually { department.requestLog.count >= 6 })
        #expect(try await eventually { try await hub.adapterStatus("police-hukou").counter("records_in") == total + 4 })
        #expect(department.requestLog.dropFirst(4).first?.checkpoint == "2")
        // Start over, then run now: every record again, all unchanged.
        #expect(try await hub.post("/v1/adapters/police-hukou/checkpoint", #"{"checkpoint": null}"#, method: "PUT").status == 200)
        #expect(try await eventually { try await hub.adapterStatus("police-hukou").counter("records_in") >= 2 * total + 2 })
        status = try await hub.adapterStatus("police-hukou")
        #expect(status.counter("unchanged") >= accepted)
        #expect(status.counter("accepted") == accepted)   // re-pulled records change nothing
        #expect(try await hub.post("/v1/adapters/police-hukou/run").status == 202)
        #expect(try await eventually { department.requestLog.count >= 11 })
        #expect(try await hub.post("/v1/adapters/police-hukou/checkpoint", #"{"position": 3}"#, method: "PUT").status == 400)
        // /metrics shows the adapter's state, records and lag, and this process's runs.
        let metrics = try await httpRequest(hub.base + "/metrics").text
        #expect(metrics.contains(#"recordonce_adapter_state{adapter="police-hukou",state="running"} 1"#), "\(metrics)")
        #expect(metrics.contains(#"recordonce_adapter_records{adapter="police-hukou",outcome="accepted"} \#(accepted)"#))
        #expect(metrics.contains(#"recordonce_adapter_lag_seconds{adapter="police-hukou"}"#))
        #expect(metrics.contains(#"recordonce_adapter_runs_total{adapter="police-hukou",result="succeeded"}"#))
        #expect(try await hub.post("/v1/adapters/nope/checkpoint", #"{"checkpoint": null}"#, method: "PUT").status == 404)
    }

    @Test func fileDeclarationsAreStoredAtStartUpAndPulled() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        let hub = try pullHub(adapters: ["police.json5": PolicePages.declaration(department, every: "1h")])
        #expect(try await eventually { try await hub.adapterStatus("police-hukou")["last_success_at"] is String })
        let status = try await hub.adapterStatus("police-hukou")
        #expect(status["origin"] as? String == "file")
        #expect((status["file"] as? String)?.hasSuffix("/adapters/police.json5") == true)
        #expect(status.checkpoint == "3")
        #expect((status["pull"] as? [String: Any])?["kind"] as? String == "fake")
    }

    @Test func aHubWithoutSchedulerTakesPushesButPullsNothing() async throws {
        let department = FakeDepartment.make(pages: PolicePages.pages(size: 4))
        let hub = try TestHub(adapters: ["police.json5": PolicePages.declaration(department, every: "1s")], configure: { config in
            config.pullKinds = [FakePullKind.self]
            config.runsAdapterScheduler = false
        })
        #expect(hub.hub.scheduler == nil)
        try await Task.sleep(nanoseconds: 1_200_000_000)
        #expect(department.requestLog.isEmpty)
        #expect(try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: hub.adminToken,
                                      body: Data(PolicePages.page(PolicePages.items))).status == 200)
    }
}
