import Foundation
import Secrets
import Testing

/// `recordonce adapter list|show|run|validate`, run as a user runs them, against a real hub.
@Suite struct AdapterCommandLineTests {
    static let declaration = #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { sha256: "\#(Secrets.hex(Secrets.sha256("t")))" } }"#

    @Test func listShowAndRunTalkToARunningHub() async throws {
        let hub = try TestHub(adapters: ["police.json5": Self.declaration])
        let remote = ["--url", hub.base, "--data-dir", hub.folder]
        let env = ["RECORDONCE_ADMIN_TOKEN": ""]
        let list = try Binary.run(["adapter", "list"] + remote, environment: env)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.hasPrefix("ID"))
        #expect(list.stdout.contains("police-hukou  running  push"))
        let show = try Binary.run(["adapter", "show", "police-hukou"] + remote, environment: env)
        #expect(show.status == 0)
        #expect(show.stdout.contains("department         police"))
        #expect(show.stdout.contains("origin             file"))
        let json = try Binary.run(["adapter", "show", "police-hukou", "--format", "json"] + remote, environment: env)
        #expect((try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])?["state"] as? String == "running")
        // A push adapter cannot be run; an unknown one is not found; both say why and exit 1.
        let run = try Binary.run(["adapter", "run", "police-hukou"] + remote, environment: env)
        #expect(run.status == 1)
        #expect(run.stderr.contains("pushes"))
        #expect(try Binary.run(["adapter", "show", "nope"] + remote, environment: env).status == 1)
        #expect(try Binary.run(["adapter", "list", "--url", hub.base], environment: ["RECORDONCE_ADMIN_TOKEN": "wrong"]).status == 1)
        #expect(try Binary.run(["adapter", "list", "--url", hub.base, "--data-dir", "/nonexistent"], environment: env).status == 2)
    }

    @Test func validatePrintsEveryProblemWithFileAndLine() throws {
        let folder = try temporaryFolder("ro-validate")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let bad = folder + "/bad.json5"
        try """
            {
              id: "Police",
              department: "police",
              mapping: "nope.json5",
              token: { env: "RECORDONCE_TEST_NOT_SET" },
              pull: { kind: "no-such-kind", every: "sometimes" },
            }
            """.write(toFile: bad, atomically: true, encoding: .utf8)
        let good = folder + "/good.json5"
        try Self.declaration.write(toFile: good, atomically: true, encoding: .utf8)
        let content = ["--catalog", RepositoryRoot.path + "/mappings/catalog", "--mappings", RepositoryRoot.path + "/mappings"]
        let run = try Binary.run(["adapter", "validate", bad, good] + content)
        #expect(run.status == 2)
        let lines = run.stdout.split(separator: "\n").map(String.init)
        for (line, path) in [(2, "id"), (4, "mapping"), (5, "token"), (6, "pull.kind"), (6, "pull.every")] {
            #expect(lines.contains { $0.hasPrefix("\(bad):\(line):") && $0.contains(" \(path): ") }, "\(path) at line \(line) in:\n\(run.stdout)")
        }
        #expect(lines.contains("\(good): valid"))
        #expect(!run.stdout.contains("RECORDONCE_TEST_NOT_SET=") )
        let clean = try Binary.run(["adapter", "validate", good] + content)
        #expect(clean.status == 0, "\(clean.stdout)")
    }
}
