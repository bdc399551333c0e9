import Catalog
import Foundation
import Store
import Testing

/// kill -9 during `recordonce import`, then the same import again: the store and the change log
/// must equal those of an uninterrupted run (no event lost, none doubled).
@Suite(.serialized) struct ImportCrashTests {
    /// A police register export as NDJSON: households of three, a few invalid IDs, and people
    /// who appear again later with a changed name (a second version, in order).
    static func writePoliceExport(persons: Int, to path: String) throws {
        var out = ""
        var ids: [String] = []
        for i in 0..<persons {
            let first17 = "510108" + String(format: "%04d%02d%02d", 1940 + i % 70, 1 + i % 12, 1 + i % 28) + String(format: "%03d", i % 1000)
            var id = first17 + String(CitizenID.checkCharacter(for: first17)!)
            if i % 997 == 5 { id = "5.10108E+17" }                       // Excel-damaged: rejected
            ids.append(id)
            let household = "5101080\(String(format: "%05d", i / 3))"
            out += record(id: id, name: "居民\(i)", household: household, head: i % 3 == 0, sex: i % 2 == 0 ? "1" : "女")
            if i % 50 == 49 {                                              // a correction of an earlier row
                out += record(id: ids[i - 40], name: "更正\(i)", household: "5101080\(String(format: "%05d", (i - 40) / 3))",
                              head: (i - 40) % 3 == 0, sex: "1")
            }
        }
        try out.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func record(id: String, name: String, household: String, head: Bool, sex: String) -> String {
        #"{"HH":"\#(household)","HB":"家庭户","DJJG":"成都市公安局成华区分局猛追湾派出所","ZZ":"四川省成都市成华区猛追湾街道示例路1号","SQ":"510108001001","XM":"\#(name)","XB":"\#(sex)","MZ":"01","CSRQ":"19800101","GMSFHM":"\#(id)","YHZGX":"\#(head ? "户主" : "子")","WHCD":"20","HYZK":"20","ZXBS":"0"}"# + "\n"
    }

    /// Everything that must be equal between the runs, without ids and times.
    static func snapshot(_ url: String) throws -> [String] {
        let c = try PostgresConnection(url: url)
        func lines(_ sql: String) throws -> [String] { try c.query(sql).rows.map { $0[0] ?? "NULL" } }
        let stripProvenance = "jsonb_set(e.provenance::jsonb, '{sources}', (SELECT jsonb_agg(s - 'observed_at') FROM jsonb_array_elements(e.provenance::jsonb->'sources') s))"
        return try lines("SELECT resource || ' ' || identity_key || ' v' || version || ' ' || record::text || ' ' || \(stripProvenance)::text FROM entities e ORDER BY resource, identity_key")
            + lines("""
                SELECT l.position || ' ' || l.resource || ' ' || e.identity_key || ' v' || l.version || ' ' || l.operation || ' '
                       || array_to_string(l.changed_fields, ',') || ' ' || coalesce(l.record::text, '-') || ' '
                       || (SELECT jsonb_agg(s - 'observed_at') FROM jsonb_array_elements(l.sources::jsonb) s)::text
                FROM change_log l JOIN entities e ON e.id::text = l.entity_id ORDER BY l.position
                """)
            + lines("SELECT adapter || ' ' || position || ' ' || issues::text FROM rejects ORDER BY position")
            + lines("SELECT count(*)::text FROM landing")
    }

    static func importArguments(_ file: String, _ url: String) -> [String] {
        ["import", "police-hukou", file, "--database-url", url, "--batch-size", "100", "--log-level", "error",
         "--catalog", RepositoryRoot.path + "/mappings/catalog", "--mappings", RepositoryRoot.path + "/mappings",
         "--adapters", RepositoryRoot.path + "/adapters"]
    }

    @Test func killMinus9DuringAnImportThenRerunEqualsAnUninterruptedRun() throws {
        let folder = try temporaryFolder("ro-crash")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/police.ndjson"
        try Self.writePoliceExport(persons: 4_000, to: file)

        let reference = try TestDatabase.fresh()
        let full = try Binary.run(Self.importArguments(file, reference))
        #expect(full.status == 0, "\(full.stderr)")
        let expected = try Self.snapshot(reference)
        let expectedHead = try ChangeLog.head(PostgresConnection(url: reference))
        #expect(expectedHead > 4_000)

        let crashed = try TestDatabase.fresh()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = Self.importArguments(file, crashed)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Wait until some batches have committed, then kill it mid-import.
        let watcher = try PostgresConnection(url: crashed)
        let deadline = Date().addingTimeInterval(120)
        var headAtKill: Int64 = 0
        while Date() < deadline && process.isRunning {
            let applied = (try? watcher.query("SELECT to_regclass('change_log_head') IS NOT NULL AS e").first?["e"]) == "t"
            if applied, let head = try? ChangeLog.head(watcher), head > expectedHead / 4 { headAtKill = head; break }
            usleep(20_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the import finished before it could be killed")
        #expect(headAtKill > 0 && headAtKill < expectedHead)

        let rerun = try Binary.run(Self.importArguments(file, crashed))
        #expect(rerun.status == 0, "\(rerun.stderr)")
        #expect(try ChangeLog.head(PostgresConnection(url: crashed)) == expectedHead)
        let actual = try Self.snapshot(crashed)
        #expect(actual.count == expected.count)
        #expect(actual == expected)
        if actual != expected {
            try expected.joined(separator: "\n").write(toFile: "/tmp/ro-crash-expected.txt", atomically: true, encoding: .utf8)
            try actual.joined(separator: "\n").write(toFile: "/tmp/ro-crash-actual.txt", atomically: true, encoding: .utf8)
        }
    }

    /// Where an import stands, as its database and the clock show it: the largest of the change
    /// log's and landing's share of what the clean run left and the share of the clean run's time
    /// gone by (an implementation may commit its events late; the clock still says how far along
    /// it is).
    static func progress(_ watcher: PostgresConnection, expectedHead: Int64, expectedLanding: Int, elapsed: Double, cleanSeconds: Double) -> Double {
        var shares = [elapsed / cleanSeconds]
        if (try? watcher.query("SELECT to_regclass('change_log_head') IS NOT NULL AS e").first?["e"]) == "t" {
            if let head = try? ChangeLog.head(watcher) { shares.append(Double(head) / Double(expectedHead)) }
            if let landing = try? watcher.query("SELECT count(*)::text AS n FROM landing").first?["n"], let n = Double(landing ?? "") {
                shares.append(n / Double(expectedLanding))
            }
        }
        return shares.max()!
    }

    /// kill -9 at about a quarter, a little over half and most of the way through the import, each
    /// in its own database, then the import again: each ends exactly as one clean import (the same
    /// entities, versions, provenance, landing, rejects, kept content, and per entity the same
    /// change events, positions gap-free), compared by what a reader can see.
    @Test(arguments: [0.25, 0.55, 0.85])
    func killMinus9AtAPointOfTheImportThenRerunEqualsACleanImport(fraction: Double) throws {
        let folder = try temporaryFolder("ro-crash")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = folder + "/police.ndjson"
        try Self.writePoliceExport(persons: 6_000, to: file)

        let clean = try TestDatabase.fresh()
        let started = Date()
        let full = try Binary.run(Self.importArguments(file, clean))
        let cleanSeconds = Date().timeIntervalSince(started)
        #expect(full.status == 0, "\(full.stderr)")
        let expected = try BulkImportEquivalenceTests.snapshot(clean)
        let expectedHead = try ChangeLog.head(PostgresConnection(url: clean))
        let expectedLanding = expected["landing"]!.count
        #expect(expectedHead > 6_000)
        #expect(expected["positions"]?.isEmpty == true, "the clean import's change log: \(expected["positions"] ?? [])")

        let crashed = try TestDatabase.fresh()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.arguments = Self.importArguments(file, crashed)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let launched = Date()
        try process.run()
        let watcher = try PostgresConnection(url: crashed)
        var reached = 0.0
        // Generous: a loaded machine can make this run much slower than the clean one.
        while process.isRunning && Date().timeIntervalSince(launched) < max(600, cleanSeconds * 10) {
            reached = Self.progress(watcher, expectedHead: expectedHead, expectedLanding: expectedLanding,
                                    elapsed: Date().timeIntervalSince(launched), cleanSeconds: cleanSeconds)
            if reached >= fraction { break }
            usleep(10_000)
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal, "the import finished before it could be killed at \(fraction)")
        let headAtKill = try ChangeLog.head(watcher)
        #expect(headAtKill < expectedHead, "killed at \(reached) of the import, yet every event was already written")

        let rerun = try Binary.run(Self.importArguments(file, crashed))
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let differences = try BulkImportEquivalenceTests.compare(expected, BulkImportEquivalenceTests.snapshot(crashed),
                                                                 keep: "/tmp/ro-crash-\(Int(fraction * 100))",
                                                                 names: ("clean", "killed and re-run"))
        #expect(differences.isEmpty, "killed at \(String(format: "%.2f", reached)) of the import (head \(headAtKill) of \(expectedHead)), then re-run: \(differences)")
        #expect(try ChangeLog.head(PostgresConnection(url: crashed)) == expectedHead)
    }
}
