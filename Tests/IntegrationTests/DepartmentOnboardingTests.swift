import Foundation
import Testing
@testable import Hub

/// A department the code has never heard of, added to (a copy of) the catalog, registered over
/// the API and loading records; and what its team's token may and may not see.
@Suite struct DepartmentOnboardingTests {
    @Test func aDepartmentAddedToTheCatalogRegistersAndLoadsRecords() async throws {
        let setup = try FederationSetup()
        defer { setup.remove() }
        // With the catalog as shipped the federation is refused, naming the catalog.
        let plain = try TestHub(configure: { $0.mappingsDirectory = setup.mappings })
        let refused = try await plain.post("/v1/adapters", FederationSetup.declaration)
        #expect(refused.status == 422)
        #expect(refused.text.contains("\"path\":\"department\""), "\(refused.text)")
        #expect(refused.text.contains("not a department of the catalog"), "\(refused.text)")

        let hub = try setup.hub()
        let created = try await hub.post("/v1/adapters", FederationSetup.declaration)
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["department"] as? String == FederationSetup.department)
        #expect(try created.json()["mapping_problems"] as? [String] == [])
        let token = try #require(try await hub.post("/v1/adapters/dpf-register/token").json()["token"] as? String)
        let push = try await httpRequest(hub.base + "/v1/ingest/dpf-register", method: "POST", token: token,
                                         body: Data(FederationSetup.records.utf8))
        #expect(push.status == 200, "\(push.text)")
        let totals = try #require(try push.json()["totals"] as? [String: Any])
        #expect(totals["accepted"] as? Int == 2 && totals["rejected"] as? Int == 1, "\(push.text)")

        // The golden record names the new department as its source, and it ranks first.
        let record = try await httpRequest(hub.base + "/v1/resources/disability?key=11010519491231002X", token: hub.admin).json()
        #expect((record["record"] as? [String: Any])?["category"] as? String == "4", "\(record)")
        #expect(String(describing: record["provenance"] ?? "").contains(FederationSetup.department))
    }

    @Test func aTeamTokenReadsItsOwnAdapterAndRejectsAndNothingElse() async throws {
        let setup = try FederationSetup()
        defer { setup.remove() }
        let hub = try setup.hub()
        #expect(try await hub.post("/v1/adapters", FederationSetup.declaration).status == 201)
        let police = #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5" }"#
        #expect(try await hub.post("/v1/adapters", police).status == 201)
        let team = try #require(try await hub.post("/v1/adapters/dpf-register/token").json()["token"] as? String)
        let policeToken = try #require(try await hub.post("/v1/adapters/police-hukou/token").json()["token"] as? String)
        #expect(try await httpRequest(hub.base + "/v1/ingest/dpf-register", method: "POST", token: team,
                                      body: Data(FederationSetup.records.utf8)).status == 200)
        let policePush = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: policeToken,
                                               body: Data(#"{"data": {"items": [{"GMSFHM": "123", "XM": "x"}]}}"#.utf8))
        #expect(policePush.status == 200, "\(policePush.text)")

        // Allowed: its own adapter (state, counters, last error, checkpoint) ...
        let own = try await httpRequest(hub.base + "/v1/adapters/dpf-register", token: team)
        #expect(own.status == 200, "\(own.text)")
        let status = try own.json()
        #expect(status.state == "running")
        #expect(status.counter("records_in") == 3 && status.counter("rejected") == 1)
        #expect(status.keys.contains("last_error") && status.keys.contains("checkpoint"))
        // ... its own rejects, with their problems (never the values) ...
        for url in ["/v1/rejects", "/v1/rejects?adapter=dpf-register"] {
            let list = try await httpRequest(hub.base + url, token: team)
            #expect(list.status == 200, "\(list.text)")
            let rejects = try #require(try list.json()["rejects"] as? [[String: Any]])
            #expect(rejects.count == 1)
            #expect(rejects.allSatisfy { $0["adapter"] as? String == "dpf-register" })
            let issues = try #require(rejects.first?["issues"] as? [[String: Any]])
            #expect(issues.first?["field"] as? String != nil && issues.first?["rule"] as? String != nil, "\(issues)")
        }
        let ownReject = try #require(try await httpRequest(hub.base + "/v1/rejects", token: team).json()["rejects"] as? [[String: Any]]).first?["id"] as? Int
        let policeReject = try #require(try await httpRequest(hub.base + "/v1/rejects?adapter=police-hukou", token: hub.admin)
            .json()["rejects"] as? [[String: Any]]).first?["id"] as? Int
        // ... and retrying them (still rejected: the mapping has not changed).
        let retried = try await httpRequest(hub.base + "/v1/rejects/\(ownReject!)/retry", method: "POST", token: team)
        #expect(retried.status == 200, "\(retried.text)")
        #expect(try retried.json()["status"] as? String == "rejected")

        // Refused: other adapters, their rejects, the adapter list, golden records, the feed, admin actions.
        let refused: [(String, String, Int)] = [
            ("GET", "/v1/adapters/police-hukou", 403),
            ("GET", "/v1/adapters", 403),
            ("GET", "/v1/rejects?adapter=police-hukou", 403),
            ("POST", "/v1/rejects/\(policeReject!)/retry", 404),
            ("GET", "/v1/resources/disability?key=11010519491231002X", 403),
            ("GET", "/v1/changes", 403),
            ("GET", "/v1/feed", 403),
            ("GET", "/v1/conflicts", 403),
            ("POST", "/v1/adapters/dpf-register/pause", 403),
            ("POST", "/v1/adapters/dpf-register/token", 403),
        ]
        for (method, path, expected) in refused {
            let response = try await httpRequest(hub.base + path, method: method, token: team)
            #expect(response.status == expected, "\(method) \(path): \(response.status) \(response.text)")
        }
        // The police reject is still open: the federation's token did not touch it.
        let stillOpen = try await httpRequest(hub.base + "/v1/rejects?adapter=police-hukou", token: hub.admin).json()
        #expect((stillOpen["rejects"] as? [[String: Any]])?.first?["id"] as? Int == policeReject)
        // Without a token, nothing.
        #expect(try await httpRequest(hub.base + "/v1/adapters/dpf-register").status == 401)
    }
}

/// A copy of the catalog with the Disabled Persons' Federation as a department (first authority
/// for disability facts), and a mappings folder with its register's mapping.
struct FederationSetup {
    static let department = "disabled-persons-federation"
    static let declaration = #"{ id: "dpf-register", department: "disabled-persons-federation", mapping: "dpf-register.json5" }"#
    static let mapping = """
        {
          id: 'dpf-register',
          version: 1,
          source: { adapter: 'dpf-register', department: 'disabled-persons-federation', format: 'json', key: 'cert' },
          outputs: [
            {
              resource: 'Disability',
              fields: { citizen_id: 'id', certificate_number: 'cert', category: 'category', grade: 'grade', issue_date: 'issued' },
            },
          ],
        }
        """
    /// Two good certificates and one with a category the code table does not have.
    static let records = """
        [
          {"id": "11010519491231002X", "cert": "11010519491231002X42", "category": "4", "grade": "2", "issued": "2015-06-01"},
          {"id": "440524188001010014", "cert": "44052418800101001411", "category": "1", "grade": "1", "issued": "2016-01-20"},
          {"id": "34052419800101001X", "cert": "34052419800101001X93", "category": "9", "grade": "3", "issued": "2017-03-02"}
        ]
        """

    let folder: String
    var catalog: String { folder + "/catalog" }
    var mappings: String { folder + "/mappings" }

    init() throws {
        folder = try temporaryFolder("ro-dept")
        let fm = FileManager.default
        try fm.copyItem(atPath: RepositoryRoot.path + "/mappings/catalog", toPath: catalog)
        try fm.createDirectory(atPath: mappings, withIntermediateDirectories: true)
        for name in ["police-hukou.json5"] {
            try fm.copyItem(atPath: RepositoryRoot.path + "/mappings/" + name, toPath: mappings + "/" + name)
        }
        try Self.mapping.write(toFile: mappings + "/dpf-register.json5", atomically: true, encoding: .utf8)
        try Self.addDepartment(toCatalog: catalog)
    }

    /// Adds the federation to `catalog.json5` and puts it first among the disability authorities.
    static func addDepartment(toCatalog catalog: String) throws {
        let catalogFile = catalog + "/catalog.json5"
        var text = try String(contentsOfFile: catalogFile, encoding: .utf8)
        let entry = "    { id: '\(department)', name: { zh: '残疾人联合会', en: \"Disabled Persons' Federation\" } },\n"
        text = text.replacingOccurrences(of: "  ],\n  resources:", with: entry + "  ],\n  resources:")
        try text.write(toFile: catalogFile, atomically: true, encoding: .utf8)
        let disabilityFile = catalog + "/resources/disability.json5"
        let disability = try String(contentsOfFile: disabilityFile, encoding: .utf8)
            .replacingOccurrences(of: "authorities: ['civil-affairs']", with: "authorities: ['\(department)', 'civil-affairs']")
        try disability.write(toFile: disabilityFile, atomically: true, encoding: .utf8)
    }

    func hub() throws -> TestHub {
        try TestHub(configure: { config in
            config.catalogDirectory = catalog
            config.mappingsDirectory = mappings
        })
    }

    func remove() { try? FileManager.default.removeItem(atPath: folder) }
}
