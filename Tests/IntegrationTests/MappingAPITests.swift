import Foundation
import Mapping
import SourceFormats
import Testing
@testable import Hub

/// `/v1/mappings` through the real server: validation with a dry run (the CLI's report), and
/// publishing versions that adapters apply from their next batch.
@Suite struct MappingAPITests {
    static func validate(_ hub: TestHub, _ body: [String: Any], token: String? = nil) async throws -> TestHTTPResponse {
        try await httpRequest(hub.base + "/v1/mappings/validate", method: "POST", token: token ?? hub.admin,
                              body: try JSONSerialization.data(withJSONObject: body))
    }

    @Test func validateGivesTheProblemsAndTheCLIsDryRunReportMasked() async throws {
        let hub = try TestHub()
        let mapping = try String(contentsOfFile: RepositoryRoot.path + "/mappings/civil-dibao.json5", encoding: .utf8)
        let sampleData = try #require(FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/civil-dibao.csv"))
        let sample = try #require(String(data: sampleData, encoding: String.Encoding(rawValue: 0x8000_0632)))

        let masked = try await Self.validate(hub, ["mapping": mapping, "sample": sample])
        #expect(masked.status == 200, "\(masked.text)")
        let answer = try masked.json()
        #expect(answer["valid"] as? Bool == true)
        #expect((answer["problems"] as? [Any])?.isEmpty == true)
        let dryRun = try #require(answer["dry_run"] as? [String: Any])
        #expect(dryRun["records"] as? Int == 6 && dryRun["accepted"] as? Int == 3 && dryRun["rejected"] as? Int == 3, "\(dryRun)")
        // The very report `recordonce mapping validate --sample` prints, for the same records.
        let schema = try MappingSchema.load(catalogDirectory: RepositoryRoot.path + "/mappings/catalog")
        let plan = try MappingPlan.compile(text: mapping, file: "mapping", schema: schema)
        var options = plan.source.readOptions
        options.csv.encoding = .utf8
        let reader = try SourceReaders.reader(source: ByteSource(bytes: Array(sample.utf8), name: "sample"), options: options)
        let expected = DryRunReport.run(plan: plan, reader: reader, sample: "sample").text()
        let report = try #require(dryRun["report"] as? String)
        #expect(report == expected)
        #expect(report.contains("value=510*************00"))
        #expect(!report.contains("510108195801020335"))

        let revealed = try await Self.validate(hub, ["mapping": mapping, "sample": sample, "reveal": true]).json()
        let revealedReport = try #require((revealed["dry_run"] as? [String: Any])?["report"] as? String)
        #expect(revealedReport != report)
        #expect(!revealedReport.contains("value=510*************00"))

        // A department's own token may validate too; a missing token may not.
        let police = #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5" }"#
        #expect(try await hub.post("/v1/adapters", police).status == 201)
        let team = try #require(try await hub.post("/v1/adapters/police-hukou/token").json()["token"] as? String)
        #expect(try await Self.validate(hub, ["mapping": mapping], token: team).status == 200)
        #expect(try await httpRequest(hub.base + "/v1/mappings/validate", method: "POST", body: Data("{}".utf8)).status == 401)
    }

    @Test func aMappingWithErrorsIsStillAnAnswerAndABrokenBodyIsNot() async throws {
        let hub = try TestHub()
        let broken = """
            {
              id: 'x', version: 1,
              source: { adapter: 'x', department: 'no-such-department', format: 'json', key: 'k' },
              outputs: [{ resource: 'Person', fields: { citizen_id: 'k', nmae: 'n' } }],
            }
            """
        let response = try await Self.validate(hub, ["mapping": broken, "sample": "[{\"k\": \"1\"}]"])
        #expect(response.status == 200, "\(response.text)")
        let answer = try response.json()
        #expect(answer["valid"] as? Bool == false)
        #expect(answer["dry_run"] is NSNull)
        let problems = try #require(answer["problems"] as? [[String: Any]])
        let rules = Set(problems.compactMap { $0["rule"] as? String })
        #expect(rules.isSuperset(of: ["mapping.unknown_department", "mapping.unknown_target"]), "\(problems)")
        let department = try #require(problems.first { $0["rule"] as? String == "mapping.unknown_department" })
        #expect(department["path"] as? String == "source.department" && department["line"] as? Int == 3)
        #expect(department["severity"] as? String == "error" && department["column"] is Int)

        #expect(try await httpRequest(hub.base + "/v1/mappings/validate", method: "POST", token: hub.admin,
                                      body: Data("{not json".utf8)).status == 400)
        #expect(try await Self.validate(hub, ["sample": "x"]).status == 400)
        #expect(try await Self.validate(hub, ["mapping": broken, "sample_format": "yaml"]).status == 400)
    }

    @Test func publishingAVersionIsAppliedFromTheNextBatchAndEarlierVersionsAreKept() async throws {
        let setup = try FederationSetup()
        defer { setup.remove() }
        let hub = try setup.hub()
        #expect(try await hub.post("/v1/adapters", FederationSetup.declaration).status == 201)
        // A second hub process on the same database, running all along.
        let second = try TestHub(databaseURL: hub.hub.databaseURL, configure: { config in
            config.catalogDirectory = setup.catalog
            config.mappingsDirectory = setup.mappings
            config.adapterRefreshSeconds = 0.2
        })
        let team = try #require(try await hub.post("/v1/adapters/dpf-register/token").json()["token"] as? String)
        let push = try await httpRequest(hub.base + "/v1/ingest/dpf-register", method: "POST", token: team,
                                         body: Data(FederationSetup.records.utf8))
        #expect((try push.json()["totals"] as? [String: Any])?["rejected"] as? Int == 1)

        let list = try await httpRequest(hub.base + "/v1/mappings", token: hub.admin).json()
        let entry = try #require((list["mappings"] as? [[String: Any]])?.first { $0["id"] as? String == "dpf-register" })
        #expect(entry["version"] as? Int == 1 && entry["source_format"] as? String == "json")
        #expect(entry["adapters"] as? [String] == ["dpf-register"])

        // The federation writes category 9 for "multiple": a crosswalk fixes it. Same version: refused.
        let fixed = FederationSetup.mapping
            .replacingOccurrences(of: "category: 'category'", with: "category: { from: 'category', crosswalk: 'category' }")
            .replacingOccurrences(of: "  outputs: [", with: "  crosswalks: { category: { '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6', '7': '7', '9': '7' } },\n  outputs: [")
        let sameVersion = try await hub.post("/v1/mappings/dpf-register", Self.body(fixed), method: "PUT")
        #expect(sameVersion.status == 422, "\(sameVersion.text)")
        #expect(sameVersion.text.contains("mapping.version_not_increased"))
        let wrongID = try await hub.post("/v1/mappings/other", Self.body(fixed.replacingOccurrences(of: "version: 1", with: "version: 2")), method: "PUT")
        #expect(wrongID.status == 422 && wrongID.text.contains("mapping.id_mismatch"), "\(wrongID.text)")
        let invalid = try await hub.post("/v1/mappings/dpf-register", Self.body(fixed.replacingOccurrences(of: "version: 1", with: "version: 2")
            .replacingOccurrences(of: "grade: 'grade'", with: "grde: 'grade'")), method: "PUT")
        #expect(invalid.status == 422 && invalid.text.contains("mapping.unknown_target"), "\(invalid.text)")
        // Only admins publish.
        #expect(try await httpRequest(hub.base + "/v1/mappings/dpf-register", method: "PUT", token: team, body: Data("{}".utf8)).status == 403)

        let v2 = fixed.replacingOccurrences(of: "version: 1", with: "version: 2")
        let published = try await hub.post("/v1/mappings/dpf-register", Self.body(v2), method: "PUT")
        #expect(published.status == 200, "\(published.text)")
        #expect(try published.json()["version"] as? Int == 2 && published.json()["changed"] as? Bool == true)
        // Publishing the same again changes nothing.
        #expect(try await hub.post("/v1/mappings/dpf-register", Self.body(v2), method: "PUT").json()["changed"] as? Bool == false)

        let detail = try await httpRequest(hub.base + "/v1/mappings/dpf-register", token: hub.admin).json()
        #expect(detail["version"] as? Int == 2 && detail["text"] as? String == v2)
        let versions = try #require(detail["versions"] as? [[String: Any]])
        #expect(versions.map { $0["version"] as? Int } == [1, 2])
        #expect(versions[0]["published_at"] is NSNull && versions[1]["published_at"] is String)
        #expect(try await httpRequest(hub.base + "/v1/mappings/nope", token: hub.admin).status == 404)

        // The adapter applies version 2 at once: the rejected record, retried, is accepted now.
        let rejects = try await httpRequest(hub.base + "/v1/rejects", token: team).json()
        let rejectID = try #require((rejects["rejects"] as? [[String: Any]])?.first?["id"] as? Int)
        let retried = try await httpRequest(hub.base + "/v1/rejects/\(rejectID)/retry", method: "POST", token: team)
        #expect(try retried.json()["status"] as? String == "accepted", "\(retried.text)")
        let record = try await httpRequest(hub.base + "/v1/resources/disability?key=34052419800101001X", token: hub.admin).json()
        #expect((record["record"] as? [String: Any])?["category"] as? String == "7")
        let provenance = String(decoding: try JSONSerialization.data(withJSONObject: record["provenance"] ?? [:]), as: UTF8.self)
        #expect(provenance.contains("\"mapping_version\":2"), "\(provenance)")

        // Another hub process on the same database applies the published version when it starts.
        let third = try TestHub(databaseURL: hub.hub.databaseURL, configure: { config in
            config.catalogDirectory = setup.catalog
            config.mappingsDirectory = setup.mappings
        })
        #expect(third.hub.ingest.registry.adapter("dpf-register")?.plan?.version == 2)
        // One already running picks up a publication within its refresh period.
        let v3 = v2.replacingOccurrences(of: "version: 2", with: "version: 3").replacingOccurrences(of: "'9': '7'", with: "'9': '7', '0': '7'")
        #expect(try await hub.post("/v1/mappings/dpf-register", Self.body(v3), method: "PUT").status == 200)
        #expect(try await eventually { second.hub.ingest.registry.adapter("dpf-register")?.plan?.version == 3 })
    }

    static func body(_ mapping: String) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: ["mapping": mapping]), as: UTF8.self)
    }
}
