import Foundation
import Testing
@testable import Hub

/// Runs the new-department walk-through of docs/catalog.md, docs/mappings.md and docs/adapters.md
/// against a real hub, in that order (conventions: `DocExamples`): the admin adds the Disabled
/// Persons' Federation to a copy of the catalog and checks it; the hub restarts with it; the
/// mapping is validated and published over the API; the adapter is registered; the team pushes,
/// reads its adapter and rejects, is refused the rest, and retries after a mapping fix.
@Suite struct DepartmentDocExamplesTests {
    static let documents: [(file: String, examples: [String])] = [
        ("docs/catalog.md", ["add-department", "catalog-check"]),
        ("docs/mappings.md", ["write-mapping", "validate-mapping", "publish-mapping", "list-mappings"]),
        ("docs/adapters.md", ["register-team-adapter", "team-push-and-status", "team-rejects", "team-refused", "fix-and-retry", "replay"]),
    ]

    @Test func theNewDepartmentWalkThroughRunsAgainstARealHub() async throws {
        var examples: [String: (DocExample, String)] = [:]
        for (file, names) in Self.documents {
            let parsed = try DocExamples.parse(try String(contentsOfFile: RepositoryRoot.path + "/" + file, encoding: .utf8), file: file)
            #expect(parsed.map(\.name) == names, "\(file)")
            for example in parsed { examples[example.name] = (example, file) }
        }
        let folder = try temporaryFolder("ro-dept-doc")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.copyItem(atPath: RepositoryRoot.path + "/mappings/catalog", toPath: folder + "/catalog-in-use")
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        var environment = ["CATALOG": folder + "/catalog-in-use", "MAPPINGS": RepositoryRoot.path + "/mappings",
                           "PATH": RepositoryRoot.path + "/.build/debug:" + path]
        func run(_ name: String) throws -> String {
            let (example, file) = try #require(examples[name], "no example \(name)")
            let process = try ExampleProcess(example, folder: folder, environment: environment)
            let status = process.finish(timeout: 60)
            #expect(status == 0, "example \(name) (\(file):\(example.line)) ended with \(status.map(String.init) ?? "a timeout"):\n\(process.stdout)\n\(process.stderr)")
            return process.stdout
        }

        // docs/catalog.md: the department is added to a copy and checked against the catalog in use.
        #expect(try run("add-department").contains("disabled-persons-federation"))
        let check = try run("catalog-check")
        #expect(check.contains("0 breaking change(s), 1 note(s)"), "\(check)")
        #expect(check.contains("note department_added: department disabled-persons-federation is added"), "\(check)")

        // The admin installs it: the hub starts with the changed catalog.
        let hub = try TestHub(configure: { config in
            config.catalogDirectory = folder + "/catalog-new"
            config.mappingsDirectory = RepositoryRoot.path + "/mappings"
        })
        environment["HUB"] = hub.base
        environment["ADMIN_TOKEN"] = hub.admin

        // docs/mappings.md: validate with a dry run, publish, read the versions.
        _ = try run("write-mapping")
        let validated = try run("validate-mapping")
        #expect(validated.hasPrefix("True 2 1\n"), "\(validated)")
        #expect(validated.contains("Disability.category [code.unknown]") && validated.contains("at sample:4 [2]"), "\(validated)")
        #expect(!validated.contains("34052419800101001X"), "the report shows a value unmasked: \(validated)")
        #expect(try run("publish-mapping").contains(#"{"id":"dpf-register","version":1,"changed":true}"#))
        #expect(try run("list-mappings") == "dpf-register 1 [1]\n")

        // docs/adapters.md: the team's view.
        _ = try run("register-team-adapter")
        let pushed = try run("team-push-and-status")
        #expect(pushed.contains("'accepted': 2") && pushed.contains("'rejected': 1"), "\(pushed)")
        #expect(pushed.contains("running {'records_in': 3"), "\(pushed)")
        let rejects = try run("team-rejects").split(separator: "\n")
        #expect(rejects.count == 1 && rejects.first?.contains("'Disability.category'") == true, "\(rejects)")
        let refused = try run("team-refused").split(separator: "\n")
        #expect(refused.count == 4 && refused.allSatisfy { $0.hasPrefix("403 ") }, "\(refused)")
        let retried = try run("fix-and-retry")
        #expect(retried.contains(#"{"id":"dpf-register","version":2,"changed":true}"#), "\(retried)")
        #expect(retried.hasSuffix(" accepted\n"), "\(retried)")
        #expect(try run("replay") == "3 []\n2 3 0\n")

        // What the walk-through promised, read back through the API.
        let record = try await httpRequest(hub.base + "/v1/resources/disability?key=34052419800101001X", token: hub.admin).json()
        #expect((record["record"] as? [String: Any])?["category"] as? String == "7", "\(record)")
        let status = try await hub.adapterStatus("dpf-register")
        #expect(status["department"] as? String == "disabled-persons-federation")
    }
}
