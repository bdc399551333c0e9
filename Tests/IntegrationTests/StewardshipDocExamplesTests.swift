import Foundation
@testable import Hub
import Testing

/// Runs the examples of docs/stewardship.md against a real hub, in document order (the
/// conventions of `DocExamples`, shared with docs/feed.md). Before them the test loads the police
/// register's sample and a health push that disagrees with it on two names and one sex.
@Suite struct StewardshipDocExamplesTests {
    static let expectedExamples = ["summary", "list", "show", "resolve", "provenance", "invalid-value", "bulk-dry-run", "bulk",
                                   "correct", "remove", "audit", "record-once",
                                   "match-push", "match-list", "match-show", "match-link"]
    static let healthToken = "health-push-token-for-doc-examples"

    /// The health sample's residents that the police register also has, with the differences.
    static func healthPage() throws -> Data {
        let data = try #require(FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/health-records.json"))
        var records = try #require(try JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        records = records.filter { ["510108196503140114", "510108199001050139", "510108198704150422"].contains($0["sfzh"] as? String ?? "") }
        for i in records.indices {
            switch records[i]["sfzh"] as? String {
            case "510108196503140114": records[i]["xm"] = "张健国"
            case "510108199001050139": records[i]["xb"] = "女"
            default: records[i]["xm"] = "陈方"
            }
        }
        return try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys])
    }

    @Test func theDocumentsExamplesRunAgainstARealHub() async throws {
        let markdown = try String(contentsOfFile: RepositoryRoot.path + "/docs/stewardship.md", encoding: .utf8)
        let examples = try DocExamples.parse(markdown, file: "docs/stewardship.md")
        #expect(examples.map(\.name) == Self.expectedExamples)
        let outputs = try DocExamples.blocks(markdown, file: "docs/stewardship.md").reduce(into: [String: String]()) { out, block in
            if block.language == "text", let name = block.attributes["output"] { out[name] = block.code }
        }
        let session = try DocSession(examples: examples, document: "docs/stewardship.md", adapters: [
            "health.json5": #"{ id: "health-records", department: "health", mapping: "health-records.json5", token: { sha256: "\#(IngestAPITests.sha(Self.healthToken))" } }"#,
            "visits.json5": #"{ id: "community-visits", department: "civil-affairs", mapping: "community-visits.json5", token: { sha256: "\#(String(repeating: "0", count: 64))" } }"#,
        ])
        defer { session.stop() }
        try await session.push(PoliceRegister().sample)
        let health = try await httpRequest(session.hub.base + "/v1/ingest/health-records", method: "POST", token: Self.healthToken,
                                           body: try Self.healthPage())
        let opened = try health.json()["conflicts"] as? Int
        #expect(health.status == 200 && opened == 3, "\(health.text)")

        // Every example with a documented output prints exactly that.
        var printed: [String: String] = [:]
        for example in examples {
            printed[example.name] = try session.run(example.name)
            if let expected = outputs[example.name] {
                #expect(printed[example.name] == expected, "docs/stewardship.md example \(example.name) printed:\n\(printed[example.name] ?? "")")
            }
        }
        // The list shows the two name conflicts, the first of which the next examples decide.
        let listed = (printed["list"] ?? "").split(separator: "\n")
        #expect(listed.count == 2 && listed.allSatisfy { $0.hasSuffix(" open name police -> health") }, "\(printed["list"] ?? "")")
        let decided = try session.readText("conflict-id.txt")
        #expect(try await httpRequest(session.hub.base + "/v1/conflicts/\(decided)", token: session.hub.adminToken).json()["status"] as? String == "resolved")
        // The audit lists every decision of the examples, each with its reason.
        let audit = (printed["audit"] ?? "").split(separator: "\n").map(String.init)
        #expect(audit.count == 5, "\(audit)")
        #expect(audit.first == "resolve conflict \(decided): take_challenger | the resident showed the ID card at the health centre")
        #expect(audit.filter { $0.hasPrefix("bulk resolve conflict ") && $0.hasSuffix(": keep_golden | the police register was checked against the ID cards") }.count == 2)
        #expect(audit.suffix(2) == ["correct Person.mobile | the resident gave a new number at the counter",
                                    "remove override Person.mobile | entered for the wrong person"])
        // The counters the document reads are the hub's.
        let counts = try JSONSerialization.jsonObject(with: Data(try session.readText("record-once.json").utf8)) as? [String: Any]
        let totals = try #require(counts?["totals"] as? [String: Any])
        #expect(totals["disagreement"] as? Int == 3 && (totals["new_fact"] as? Int ?? 0) > 0 && (totals["confirmation"] as? Int ?? 0) > 0)
        // Review queue: the linked case's record reached the person; both decisions are audited.
        let linkedCase = try session.readText("v-102.case")
        let person = try await httpRequest(session.hub.base + "/v1/resources/Person/\(try session.readText("candidate.txt"))",
                                           token: session.hub.adminToken).json()
        #expect(person.member("record", "mobile") as? String == "13912345678")
        #expect(person.member("provenance", "mobile", "match", "case") as? Int == Int(linkedCase))
        let entries = try await httpRequest(session.hub.base + "/v1/audit?limit=1000", token: session.hub.adminToken).json()["entries"] as? [[String: Any]] ?? []
        let actions = entries.compactMap { $0["action"] as? String }
        let rejectedCase = try session.readText("v-103.case")
        #expect(actions.contains("link match case \(linkedCase)") && actions.contains("reject match case \(rejectedCase)"), "\(actions)")
    }
}
