import Foundation
@testable import Hub
import Testing

/// Records without a usable identity key: matched inside the ingest path, or waiting in the
/// review queue; linked and rejected by an admin; linked automatically by a later clean key
/// (issue 13). Real PostgreSQL, real HTTP.
@Suite struct MatchingTests {
    typealias M = MatchingHub
    static let division = "510108001000"

    static func police(_ i: Int, name: String, sex: String = "1", dob: String = "1985-03-12") -> [String: String] {
        ["key": "p\(i)", "id": StewardshipHub.citizenID(i), "name": name, "sex": sex, "dob": dob, "division": division]
    }

    @Test func threeOutcomesLinkedQueuedAndNoCandidate() async throws {
        let hub = try MatchingHub()
        try await hub.push("mt-police", [Self.police(0, name: "张三"), Self.police(1, name: "王五", dob: "1990-01-02"),
                                         Self.police(3, name: "李四", dob: "1970-05-06"), Self.police(4, name: "李四", dob: "1970-05-06")])
        let answer = try await hub.push("mt-hotline", [
            // Excel damaged the ID; full-width letters and a space in the name: still exactly one safe candidate.
            ["key": "h-linked", "id": "5.10108E+17", "name": "张 三", "sex": "1", "dob": "1985-03-12", "division": Self.division, "marital": "20"],
            // Two residents share name and birth date: review.
            ["key": "h-ambiguous", "name": "李四", "sex": "1", "dob": "1970-05-06", "division": Self.division, "marital": "20"],
            // One candidate, but the sex disagrees: review.
            ["key": "h-below", "name": "王五", "sex": "2", "dob": "1990-01-02", "division": Self.division, "marital": "10"],
            // Nobody like this yet.
            ["key": "h-none", "name": "赵六", "sex": "2", "dob": "2001-07-08", "marital": "10"],
        ])
        #expect((answer["totals"] as? [String: Int])?["accepted"] == 4, "\(answer)")
        let p0 = try await hub.person(StewardshipHub.citizenID(0))
        let linked = M.outcome(answer, key: "h-linked")
        #expect(M.rules(linked).contains("match.linked"), "\(String(describing: linked))")
        #expect((linked?["entities"] as? [String]) == ["Person/\(p0["id"] as? String ?? "")"])
        // The linked record's fields cite the match: rule and score, automatic.
        #expect(p0.member("record", "marital_status") as? String == "20")
        #expect(p0.member("provenance", "marital_status", "adapter") as? String == "mt-hotline")
        #expect(p0.member("provenance", "marital_status", "match", "rule") as? String == "name+date_of_birth")
        #expect(p0.member("provenance", "marital_status", "match", "score") as? Double == 0.8)
        #expect(p0.member("provenance", "marital_status", "match", "by") as? String == "auto")
        #expect(p0.member("provenance", "name", "match") == nil)

        for key in ["h-ambiguous", "h-below", "h-none"] {
            #expect(M.rules(M.outcome(answer, key: key)).contains("match.queued"), "\(key)")
        }
        let open = try await hub.matches()
        #expect(open.count == 3)
        let byKey = Dictionary(uniqueKeysWithValues: open.map { ($0["source_key"] as? String ?? "", $0) })
        #expect(byKey["h-ambiguous"]?["outcome"] as? String == "ambiguous")
        #expect((byKey["h-ambiguous"]?["candidates"] as? [[String: Any]])?.count == 2)
        #expect(byKey["h-below"]?["outcome"] as? String == "below_threshold")
        let below = try #require((byKey["h-below"]?["candidates"] as? [[String: Any]])?.first)
        #expect(below.member("rules", "sex") as? String == "disagree" && below.member("rules", "name") as? String == "agree")
        #expect(byKey["h-none"]?["outcome"] as? String == "no_candidate" && (byKey["h-none"]?["candidates"] as? [Any])?.isEmpty == true)
        #expect((byKey["h-none"]?["position"] as? String)?.isEmpty == false)
        #expect(byKey["h-none"]?.member("record", "name") as? String == "赵六")
        // Filters.
        #expect(try await hub.matches("adapter=mt-hotline&resource=Person").count == 3)
        #expect(try await hub.matches("adapter=mt-police").isEmpty)
        #expect(try await hub.matches("status=linked").isEmpty)
        // Redelivering the same content changes nothing; the case stays one.
        try await hub.push("mt-hotline", [["key": "h-none", "name": "赵六", "sex": "2", "dob": "2001-07-08", "marital": "10"]])
        #expect(try await hub.matches().count == 3)
        // A clean-key record for one of the two namesakes gives it a new version: the case stays
        // open, because the other namesake is as good a candidate.
        try await hub.push("mt-hotline", [["key": "h-clean3", "id": StewardshipHub.citizenID(3), "marital": "20"]])
        #expect(try await hub.matches().contains { $0["source_key"] as? String == "h-ambiguous" })
    }

    @Test func linkAndRejectCasesAreAuditedAndApplied() async throws {
        let hub = try MatchingHub()
        try await hub.push("mt-police", [Self.police(1, name: "王五", dob: "1990-01-02")])
        try await hub.push("mt-hotline", [
            ["key": "h-below", "name": "王五", "sex": "2", "dob": "1990-01-02", "division": Self.division, "marital": "10"],
            ["key": "h-none", "name": "赵六", "sex": "2", "dob": "2001-07-08", "marital": "10"],
        ])
        let open = try await hub.matches()
        let below = try #require(open.first { $0["source_key"] as? String == "h-below" }?["id"] as? Int)
        let none = try #require(open.first { $0["source_key"] as? String == "h-none" }?["id"] as? Int)
        let p1 = try await hub.person(StewardshipHub.citizenID(1))
        let entity = try #require(p1["id"] as? String)

        #expect(try await hub.send("POST", "/v1/matches/\(below)/link", ["entity_id": entity]).status == 400)
        let link = try await hub.send("POST", "/v1/matches/\(below)/link", ["entity_id": entity, "reason": "called back, same person"])
        #expect(link.status == 200, "\(link.text)")
        let linked = try link.json()
        #expect(linked["status"] as? String == "linked" && linked.member("decision", "entity_id") as? String == entity)
        #expect(linked.member("decision", "by") as? String == "admin" && linked.member("decision", "reason") as? String == "called back, same person")
        // Applied as if it had arrived with the key: the marital status is new; the sex disagreement is a conflict (police outranks).
        let after = try await hub.person(StewardshipHub.citizenID(1))
        #expect(after.member("record", "marital_status") as? String == "10" && after.member("record", "sex") as? String == "1")
        #expect(after.member("provenance", "marital_status", "match", "case") as? Int == below)
        #expect(after.member("provenance", "marital_status", "match", "by") as? String == "admin")
        #expect(after.member("provenance", "marital_status", "match", "rule") as? String == "name+date_of_birth")
        let conflicts = try await hub.get("/v1/conflicts?field=sex")["conflicts"] as? [[String: Any]] ?? []
        #expect(conflicts.count == 1 && conflicts.first?["entity_id"] as? String == entity)
        let events = try await hub.get("/v1/changes?limit=1000")["events"] as? [[String: Any]] ?? []
        #expect(events.last?["entity_id"] as? String == entity && (events.last?["changed_fields"] as? [String])?.contains("marital_status") == true)
        // Decided once.
        let twice = try await hub.send("POST", "/v1/matches/\(below)/link", ["entity_id": entity, "reason": "again"])
        #expect(twice.status == 409 && twice.text.contains("match_not_open"))

        let reject = try await hub.send("POST", "/v1/matches/\(none)/reject", ["reason": "test call, not a resident"])
        #expect(reject.status == 200, "\(reject.text)")
        #expect(try reject.json()["status"] as? String == "rejected")
        #expect(try await hub.send("POST", "/v1/matches/\(none)/reject", ["reason": "again"]).status == 409)
        #expect(try await hub.send("GET", "/v1/matches/999999").status == 404)
        #expect(try await hub.matches().isEmpty)
        #expect(try await hub.matches("status=all").count == 2)

        let audit = try await hub.get("/v1/audit?limit=1000")["entries"] as? [[String: Any]] ?? []
        let actions = audit.compactMap { $0["action"] as? String }
        #expect(actions.contains("link match case \(below)") && actions.contains("reject match case \(none)"), "\(actions)")
        #expect(audit.filter { ($0["action"] as? String)?.contains("match case") == true }.allSatisfy { $0["channel"] as? String == "stewardship" })
    }

    @Test func aLaterCleanKeyLinksAnOpenCaseWhenTheRulesAgree() async throws {
        let hub = try MatchingHub()
        try await hub.push("mt-hotline", [
            ["key": "h-early", "name": "孫 麗", "sex": "2", "dob": "1975-11-30", "division": Self.division, "marital": "30"],
            ["key": "h-other", "name": "孫麗", "sex": "1", "dob": "1975-11-30", "division": Self.division, "marital": "20"],
        ])
        #expect(try await hub.matches().map { $0["outcome"] as? String } == ["no_candidate", "no_candidate"])
        // The police register brings her with a clean key: the traditional-character variant agrees, so does everything else.
        try await hub.push("mt-police", [Self.police(7, name: "孙丽", sex: "2", dob: "1975-11-30")])
        let all = try await hub.matches("status=all")
        let early = try #require(all.first { $0["source_key"] as? String == "h-early" })
        let person = try await hub.person(StewardshipHub.citizenID(7))
        #expect(early["status"] as? String == "linked", "\(early)")
        #expect(early.member("decision", "by") as? String == "auto" && early.member("decision", "entity_id") as? String == person["id"] as? String)
        #expect((early.member("decision", "reason") as? String)?.contains("later record with a clean identity key") == true)
        #expect(person.member("record", "marital_status") as? String == "30")
        #expect(person.member("provenance", "marital_status", "match", "case") as? Int == early["id"] as? Int)
        // The other case disagrees on sex: it stays open.
        #expect(all.first { $0["source_key"] as? String == "h-other" }?["status"] as? String == "open")
        // The hotline sends that note again, now with a clean ID: the record is stored and its case closes.
        try await hub.push("mt-hotline", [["key": "h-other", "id": StewardshipHub.citizenID(8), "name": "孫麗", "sex": "1", "dob": "1975-11-30", "marital": "20"]])
        let other = try #require(try await hub.matches("status=all").first { $0["source_key"] as? String == "h-other" })
        let person8 = try await hub.person(StewardshipHub.citizenID(8))
        #expect(other["status"] as? String == "linked" && other.member("decision", "entity_id") as? String == person8["id"] as? String)
        #expect((other.member("decision", "reason") as? String)?.contains("arrived again") == true)
    }

    @Test func entitiesWithoutBlockingKeysAreFoundAfterReindexing() async throws {
        let hub = try MatchingHub()
        try await hub.push("mt-police", [Self.police(0, name: "张三"), Self.police(1, name: "王五", dob: "1990-01-02")])
        // As if stored before migration 0013: no blocking keys.
        try hub.test.hub.pool.withConnection { c in try c.execute("DELETE FROM match_keys") }
        let before = try await hub.push("mt-hotline", [["key": "h1", "name": "张三", "sex": "1", "dob": "1985-03-12", "division": Self.division, "marital": "20"]])
        #expect(M.rules(M.outcome(before, key: "h1")).contains("match.queued"))
        #expect(try hub.test.hub.ingest.store.indexMissingMatchKeys(pageSize: 1) == 2)
        // The command does the same on the database directly; nothing is left to index.
        let url = try #require(hub.test.hub.configuration.databaseURL)
        let run = try Binary.run(["match", "reindex", "--database-url", url, "--catalog", RepositoryRoot.path + "/mappings/catalog",
                                  "--mappings", RepositoryRoot.path + "/mappings"])
        #expect(run.status == 0 && run.stdout == "indexed the blocking keys of 0 entities\n", "\(run.stdout)\(run.stderr)")
        let after = try await hub.push("mt-hotline", [["key": "h2", "name": "张三", "sex": "1", "dob": "1985-03-12", "division": Self.division, "marital": "20"]])
        #expect(M.rules(M.outcome(after, key: "h2")).contains("match.linked"))
    }

    @Test func withoutMatchableAKeylessRecordIsStillRejected() async throws {
        let hub = try MatchingHub(hotlineMatchable: "false")
        let response = try await httpRequest(hub.base + "/v1/ingest/mt-hotline", method: "POST", token: hub.token,
                                             body: Data(#"[{"key":"h1","name":"赵六","sex":"2","dob":"2001-07-08"}]"#.utf8))
        #expect(response.status == 200)
        #expect((try response.json()["totals"] as? [String: Int])?["rejected"] == 1)
        #expect(try await hub.matches().isEmpty)
    }
}
