import Adapters
import DemoDepartments
import Foundation
import JSON5
import Secrets
import Store
import Testing

/// The demo department systems as the `recordonce demo` command starts them.
@Suite struct DemoDepartmentSystemsTests {
    static let healthToken = "health-push-token-for-tests"

    @Test func healthPushesEveryRecordAndThenItsChangesToTheHub() throws {
        let hub = try TestHub(adapters: [
            "health.json5": #"{ id: "health-records", department: "health", mapping: "health-records.json5", token: { sha256: "\#(Secrets.hex(Secrets.sha256(Self.healthToken)))" } }"#,
        ])
        let folder = try temporaryFolder("ro-demo")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DemoDepartmentConfiguration(dropFolder: folder + "/drop")
        configuration.residents = 400
        configuration.changesPerMinute = 0
        configuration.hubURL = hub.base
        configuration.healthToken = Self.healthToken
        configuration.pushInterval = 0.05
        let systems = DemoDepartmentSystems(configuration)
        try systems.start()
        defer { systems.stop() }
        let records = systems.population.health.count
        #expect(try waitUntil { systems.health.pending == 0 && systems.health.status.records == records })
        let store = ConformanceStoreReader(url: hub.hub.databaseURL)
        #expect(try store.count("SELECT count(*) FROM landing WHERE adapter = 'health-records'") == records)

        var corrected = 0
        while corrected < 3 { if systems.changes.apply(.correction) == .correction { corrected += 1 } }
        #expect(try waitUntil { systems.health.pending == 0 })
        #expect(systems.health.status.failures == 0, "\(systems.health.status.lastError ?? "")")
    }

    @Test func theDemoDeclarationsValidateAndPullFromTheRunningSystems() throws {
        let (systems, folder) = try demoSystems()
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let adapters = folder + "/adapters"
        try FileManager.default.createDirectory(atPath: adapters, withIntermediateDirectories: true)
        let files = DemoAdapterDeclarations.files(systems.endpoints)
        for file in files { try file.contents.write(toFile: adapters + "/" + file.name, atomically: true, encoding: .utf8) }
        let kinds: [any PullKind.Type] = [HTTPJSONKind.self, SOAPXMLKind.self, CSVDropKind.self, PostgresTableKind.self]
        var pulled: [String] = []
        for file in files where file.name.hasSuffix(".json5") {
            let declaration = try JSON5.parseDocument(file.contents, file: file.name)
            guard let pull = declaration["pull"] else { continue }
            let kind = try #require(kinds.first { $0.name == pull["kind"]?.stringValue })
            #expect(kind.validate(pull, file: adapters + "/" + file.name).isEmpty, "\(file.name): \(kind.validate(pull, file: file.name))")
            let context = PullContext(adapterID: file.name, baseDirectory: adapters) { reference in
                guard case .file(let path) = reference else { throw MissingTestSecret(description: "\(reference)") }
                return try String(contentsOfFile: adapters + "/" + path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let page = try kind.makeSource(pull, context: context).nextPage(after: nil)
            if page != nil { pulled.append(file.name) }
        }
        #expect(Set(pulled) == ["police-hukou.json5", "social-security.json5", "civil-dibao.json5", "civil-marriage.json5", "civil-death.json5"])
    }

    @Test func theDistrictKeepsChanging() throws {
        let folder = try temporaryFolder("ro-demo")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var configuration = DemoDepartmentConfiguration(dropFolder: folder + "/drop")
        configuration.residents = 1000
        configuration.changesPerMinute = 6000
        configuration.dropInterval = 0.2
        let systems = DemoDepartmentSystems(configuration)
        let before = systems.population.police.keys
        try systems.start()
        defer { systems.stop() }
        #expect(try waitUntil { systems.changes.applied.values.reduce(0, +) >= 40 && systems.civilAffairs.droppedFiles > 3 })
        #expect(systems.population.police.keys != before, "changed rows move to the end of the change order")
        #expect(Set(systems.changes.applied.keys).count >= 3, "\(systems.changes.applied)")
    }
}

/// Polls `condition` every 50 ms for up to `seconds`.
func waitUntil(seconds: Double = 20, _ condition: () throws -> Bool) throws -> Bool {
    let deadline = Date(timeIntervalSinceNow: seconds)
    while Date() < deadline {
        if try condition() { return true }
        Thread.sleep(forTimeInterval: 0.05)
    }
    return try condition()
}

/// Counting queries against a hub's database.
struct ConformanceStoreReader {
    let url: String
    func count(_ sql: String) throws -> Int {
        Int(try PostgresConnection(url: url).query(sql).first?[0] ?? "0") ?? 0
    }
}
