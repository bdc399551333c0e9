import Foundation
import Store
import Testing
@testable import Hub

/// Replay after a mapping fix: the federation's crosswalk sent category 9 ("multiple") to 6;
/// version 2 sends it to 7. A dry run counts what would change; the replay, killed with SIGKILL
/// part way and run again, changes exactly the affected records, once.
@Suite struct ReplayTests {
    /// A valid 18-character citizen ID (ISO 7064 MOD 11-2 check character).
    static func citizenID(_ n: Int) -> String {
        let body = "110105" + String(format: "1980%02d%02d", 1 + n / 28 % 12, 1 + n % 28) + String(format: "%03d", n / 336 + 1)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return body + String(Array("10X98765432")[sum % 11])
    }

    static let declaration = #"{ id: "dpf-register", department: "disabled-persons-federation", mapping: "dpf-register.json5" }"#

    /// Version 1 with the wrong crosswalk (9 -> 6), or version 2 with the fix (9 -> 7).
    static func mapping(version: Int) -> String {
        FederationSetup.mapping
            .replacingOccurrences(of: "version: 1", with: "version: \(version)")
            .replacingOccurrences(of: "category: 'category'", with: "category: { from: 'category', crosswalk: 'category' }")
            .replacingOccurrences(of: "  outputs: [", with: "  crosswalks: { category: { '1': '1', '2': '2', '3': '3', '4': '4', '5': '5', '6': '6', '9': '\(version == 1 ? 6 : 7)' } },\n  outputs: [")
    }

    @Test func aReplayAfterACrosswalkFixChangesExactlyTheAffectedRecordsAndResumesAfterAKill() async throws {
        let setup = try FederationSetup()
        defer { setup.remove() }
        try Self.mapping(version: 1).write(toFile: setup.mappings + "/dpf-register.json5", atomically: true, encoding: .utf8)
        let hub = try TestHub(adapters: ["dpf-register.json5": Self.declaration], configure: { config in
            config.catalogDirectory = setup.catalog
            config.mappingsDirectory = setup.mappings
        })
        // 600 certificates in 300 pushes; every third is category 9.
        let total = 600
        var multiple: Set<String> = []
        for start in stride(from: 0, to: total, by: 2) {
            var records: [String] = []
            for n in start..<(start + 2) {
                let id = Self.citizenID(n)
                let category = n % 3 == 0 ? "9" : String(1 + n % 6)
                if category == "9" { multiple.insert(id) }
                records.append(#"{"id": "\#(id)", "cert": "\#(id)\#(category == "9" ? "7" : category)1", "category": "\#(category)", "grade": "1", "issued": "2015-06-01"}"#)
            }
            let outcome = try hub.hub.ingest.ingest(adapterID: "dpf-register", body: Array(("[" + records.joined(separator: ",") + "]").utf8))
            #expect(outcome.count(.accepted) == 2)
        }
        let pool = hub.hub.pool!
        func count(_ sql: String) throws -> Int { try pool.withConnection { Int(try $0.query(sql).first?[0] ?? "-1")! } }
        #expect(try count("SELECT count(*) FROM landing_batches WHERE adapter = 'dpf-register'") == total / 2)
        #expect(try count("SELECT count(*) FROM entities WHERE resource = 'Disability' AND record->>'category' = '6'") == multiple.count + total / 6)

        // The fix is published; the dry run counts exactly the affected golden values.
        let v2 = String(decoding: try JSONSerialization.data(withJSONObject: ["mapping": Self.mapping(version: 2)]), as: UTF8.self)
        #expect(try await hub.post("/v1/mappings/dpf-register", v2, method: "PUT").status == 200)
        let dry = try await hub.post("/v1/adapters/dpf-register/replay", #"{"dry_run": true}"#)
        #expect(dry.status == 200, "\(dry.text)")
        let report = try dry.json()
        #expect(report["records"] as? Int == total && report["version"] as? Int == 2)
        let changes = try #require(report["changes"] as? [[String: Any]])
        #expect(changes.count == 1 && changes.first?["field"] as? String == "category"
                && changes.first?["golden_values"] as? Int == multiple.count, "\(changes)")
        #expect(!dry.text.contains(multiple.first!), "the dry run shows a value")
        // A dry run wrote nothing.
        #expect(try count("SELECT count(*) FROM replay_runs") == 0)
        let positionBefore = try count("SELECT coalesce(max(position), 0) FROM change_log")

        // The replay on the command line, killed part way.
        let arguments = ["mapping", "replay", "dpf-register", "--database-url", hub.hub.databaseURL, "--catalog", setup.catalog,
                         "--mappings", setup.mappings, "--adapters", hub.hub.configuration.adaptersDirectory, "--log-format", "text"]
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline, process.isRunning, try count("SELECT coalesce(max(batches), 0) FROM replay_runs") < 20 { usleep(2_000) }
        kill(process.processIdentifier, SIGKILL)
        while process.isRunning { usleep(10_000) }
        #expect(process.terminationReason == .uncaughtSignal, "the replay ended before it could be killed")
        let done = try count("SELECT batches FROM replay_runs WHERE adapter = 'dpf-register' AND finished_at IS NULL")
        #expect(done >= 20 && done < total / 2, "\(done) batches")

        // Run again: it resumes and finishes.
        let resumed = try Binary.run(arguments)
        #expect(resumed.status == 0, "\(resumed.stdout)\(resumed.stderr)")
        #expect(resumed.stdout.contains("replayed \(total) records in \(total / 2) batches with mapping dpf-register version 2 (resumed)"), "\(resumed.stdout)")

        // Exactly the affected records changed, once each, and name version 2 as their source.
        #expect(try count("SELECT count(*) FROM entities WHERE resource = 'Disability' AND record->>'category' = '7'") == multiple.count)
        #expect(try count("SELECT count(*) FROM entities WHERE resource = 'Disability' AND version > 1") == multiple.count)
        #expect(try count("SELECT count(*) FROM change_log WHERE position > \(positionBefore)") == multiple.count)
        let fixed = try await httpRequest(hub.base + "/v1/resources/disability?key=\(multiple.first!)", token: hub.admin).json()
        let provenance = String(decoding: try JSONSerialization.data(withJSONObject: fixed["provenance"] ?? [:]), as: UTF8.self)
        #expect(provenance.contains("\"mapping_version\":2"), "\(provenance)")

        // Nothing is left to change, and a second replay (over HTTP) emits no event.
        let after = try await hub.post("/v1/adapters/dpf-register/replay", "{}").json()
        #expect((after["changes"] as? [Any])?.isEmpty == true, "\(after)")
        let again = try await hub.post("/v1/adapters/dpf-register/replay", #"{"dry_run": false}"#)
        #expect(again.status == 200, "\(again.text)")
        #expect(try again.json()["events"] as? Int == 0 && again.json()["records"] as? Int == total && again.json()["resumed"] as? Bool == false)
        #expect(try count("SELECT count(*) FROM change_log WHERE position > \(positionBefore)") == multiple.count)
        // Purging the kept content: nothing is left to replay.
        let purge = try Binary.run(arguments + ["--purge-before", "2999-01-01"])
        #expect(purge.status == 0 && purge.stdout.contains("removed \(total / 2 + 0) stored batch(es), \(total) record(s)"), "\(purge.stdout)\(purge.stderr)")
        #expect(try count("SELECT count(*) FROM landing_batches") == 0)
        #expect(try Binary.run(arguments + ["--purge-before", "soon"]).status == 2)
        // Replays are for admins.
        #expect(try await httpRequest(hub.base + "/v1/adapters/dpf-register/replay", method: "POST").status == 401)
    }
}
