import Foundation
import Testing
@testable import Adapters
import Secrets

@Suite struct AdapterDeclarationTests {
    @Test func parsesADeclarationWithComments() throws {
        let text = """
            // 公安人口户籍系统
            {
              id: "police-hukou",
              department: "police",
              mapping: "police-hukou.json5",
              token: { env: "POLICE_TOKEN" },
              description: "户籍",   // trailing comma below
            }
            """
        let adapter = try AdapterDeclarations.parse(Array(text.utf8), file: "police.json5").get()
        #expect(adapter.id == "police-hukou")
        #expect(adapter.department == "police")
        #expect(adapter.token == .environment("POLICE_TOKEN"))
    }

    @Test func reportsEveryProblemWithItsLine() {
        let text = """
            {
              id: "Police Hukou",
              department: "polise",
              token: { vault: "x" },
              colour: "blue",
            }
            """
        // The departments are the catalog's, given by the caller.
        guard case .failure(let error) = AdapterDeclarations.parse(Array(text.utf8), file: "bad.json5",
                                                                   departments: ["police", "health"]) else {
            Issue.record("expected problems")
            return
        }
        let lines = Dictionary(grouping: error.problems, by: \.path).mapValues { $0.first!.position?.line }
        #expect(lines["id"] == 2)
        #expect(lines["department"] == 3)
        #expect(lines["token.vault"] == 4)
        #expect(lines["colour"] == 5)
        #expect(lines["mapping"] != nil)
        #expect(error.problems.count == 5)
        #expect(error.description.contains("bad.json5:3:"))
    }

    @Test func malformedJSON5GetsItsPosition() {
        guard case .failure(let error) = AdapterDeclarations.parse(Array("{ id: \"a\",\n  department: }".utf8), file: "x.json5") else {
            Issue.record("expected a parse error")
            return
        }
        #expect(error.problems.count == 1)
        #expect(error.problems[0].position?.line == 2)
    }

    @Test func secretsResolveWithoutEverPrintingThem() throws {
        let folder = NSTemporaryDirectory() + "adapters-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "s3cret-token\n".write(toFile: folder + "/police.token", atomically: true, encoding: .utf8)
        let expected = Secrets.hex(Secrets.sha256("s3cret-token"))
        #expect(try SecretReference.file("police.token").resolveTokenHash(relativeTo: folder) == expected)
        #expect(try SecretReference.environment("T").resolveTokenHash(relativeTo: folder, environment: ["T": "s3cret-token"]) == expected)
        #expect(try SecretReference.sha256(expected).resolveTokenHash(relativeTo: folder) == expected)
        let missing = try #require(throws: SecretResolutionError.self) {
            try SecretReference.environment("NOPE").resolveTokenHash(relativeTo: folder, environment: [:])
        }
        #expect(missing.description.contains("NOPE"))
    }

    @Test func duplicateIdsAcrossFilesAreReported() throws {
        let folder = NSTemporaryDirectory() + "adapters-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for name in ["a.json5", "b.json5"] {
            try #"{ id: "same", department: "health", mapping: "h.json5" }"#.write(toFile: folder + "/" + name, atomically: true, encoding: .utf8)
        }
        let error = try #require(throws: AdapterLoadError.self) { try AdapterDeclarations.load(directory: folder) }
        #expect(error.description.contains("also declared"))
    }
}
