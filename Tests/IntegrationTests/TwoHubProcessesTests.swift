import Foundation
import Store
import Testing

/// Two `recordonce serve` processes against one database share a csv-drop adapter: the run is
/// claimed by one of them; kill -9 that one in the middle of a run and the other takes the
/// adapter over once the lease expires and finishes the files, each stored exactly once.
@Suite(.serialized) struct TwoHubProcessesTests {
    static let files = 24, rowsPerFile = 25

    /// A valid citizen ID number (ISO 7064 MOD 11-2 check digit) for person `n`.
    static func citizenID(_ n: Int) -> String {
        let body = "51010819" + String(format: "%02d", 40 + n % 50) + "0101" + String(format: "%03d", n % 1000)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return body + String(Array("10X98765432")[sum % 11])
    }

    static func serve(_ url: String, adapters: String, log: String) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.currentDirectoryURL = URL(fileURLWithPath: Binary.path).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        process.arguments = ["serve", "--port", "0", "--database-url", url, "--adapters", adapters, "--pull-lease", "3",
                             "--log-format", "text", "--log-level", "info"]
        FileManager.default.createFile(atPath: log, contents: nil)
        process.standardError = FileHandle(forWritingAtPath: log)
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test func killTheProcessRunningAPullAndTheOtherFinishesIt() throws {
        let url = try TestDatabase.migrated(Schema.migrations)
        let root = NSTemporaryDirectory() + "recordonce-two-hubs-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: root) }
        let adapters = root + "/adapters", drop = root + "/drop"
        for folder in [adapters, drop] { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        try """
            { id: "civil-death", department: "civil-affairs", mapping: "civil-death.json5",
              pull: { kind: "csv-drop", every: "1s", folder: "\(drop)", pattern: "*.csv", encoding: "utf-8",
                      mappingEncoding: "gb18030", complete: "marker" } }
            """.write(toFile: adapters + "/civil-death.json5", atomically: true, encoding: .utf8)
        var person = 0
        for f in 0..<Self.files {
            var csv = "死亡证明编号,身份证号,姓名,性别,死亡日期,婚姻状况,死亡地点\n"
            for _ in 0..<Self.rowsPerFile {
                csv += "S\(100_000 + person),\(Self.citizenID(person)),测试\(person),男,20250312,2,医院\n"
                person += 1
            }
            let name = String(format: "deaths-%03d.csv", f)
            try csv.write(toFile: drop + "/" + name, atomically: true, encoding: .utf8)
            FileManager.default.createFile(atPath: drop + "/" + name + ".done", contents: nil)
        }

        let first = try Self.serve(url, adapters: adapters, log: root + "/a.log")
        let second = try Self.serve(url, adapters: adapters, log: root + "/b.log")
        defer { for p in [first, second] where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() } }
        let db = try PostgresConnection(url: url)
        func done() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: drop + "/done")) ?? []).filter { $0.hasSuffix(".csv") }.count
        }

        // Wait until one of them holds the lease and has stored some files, then kill it.
        var owner: Int32?
        let deadline = Date().addingTimeInterval(60)
        while owner == nil && Date() < deadline {
            if let lease = try db.query("SELECT lease_owner FROM adapters WHERE id = 'civil-death' AND lease_owner IS NOT NULL").first?["lease_owner"],
               done() >= 1, done() < Self.files {
                owner = Int32(lease.split(separator: ":")[1])
            }
            usleep(20_000)
        }
        let victim = try #require([first, second].first { $0.processIdentifier == owner }, "no run was caught in the middle")
        let survivor = victim === first ? second : first
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        let doneAtKill = done()

        // The survivor takes over after the lease (3 s) and finishes every file.
        let finish = Date().addingTimeInterval(60)
        while done() < Self.files && Date() < finish { usleep(100_000) }
        #expect(done() == Self.files, "files done: \(done()) of \(Self.files) (\(doneAtKill) when the owner was killed)")
        #expect(survivor.isRunning)
        let lastOwner = try db.query("SELECT lease_owner, runs, records_in FROM adapters WHERE id = 'civil-death'").first
        #expect(lastOwner?["lease_owner"].map { !$0.contains(":\(victim.processIdentifier):") } ?? true)

        // Each record stored once: one landing row per record, one created event per person.
        let total = Self.files * Self.rowsPerFile
        let counts = try db.query("""
            SELECT (SELECT count(*) FROM landing WHERE adapter = 'civil-death') AS landed,
                   (SELECT count(*) FROM change_log) AS events,
                   (SELECT count(DISTINCT entity_id) FROM change_log) AS entities,
                   (SELECT count(*) FROM entities WHERE resource = 'Person') AS persons
            """)[0]
        #expect(counts["landed"] == String(total))
        #expect(counts["persons"] == String(total))
        #expect(counts["events"] == counts["entities"], "an event was doubled")
        let survivorLog = (try? String(contentsOfFile: root + (survivor === first ? "/a.log" : "/b.log"), encoding: .utf8)) ?? ""
        #expect(survivorLog.contains("pulled"), "the survivor never ran the adapter:\n\(survivorLog.suffix(2000))")
    }
}
