import Foundation
@testable import Hub
import Store
import Testing

/// Conflict resolution, corrections and override retirement, through the real server on a real
/// PostgreSQL (issue 12).
@Suite struct StewardshipTests {
    typealias S = StewardshipHub

    /// Police (the name's first authority) and health disagree on four residents' names.
    func nameConflicts(_ hub: StewardshipHub, count: Int) async throws -> [Int] {
        try await hub.push("st-police", (0..<count).map { S.record($0, key: "p\($0)", ["name": "张三\($0)", "sex": "1", "dob": "1985-03-12", "marital": "20"]) })
        try await hub.push("st-health", (0..<count).map { S.record($0, key: "h\($0)", ["name": "张叁\($0)", "sex": "1", "dob": "1985-03-12"]) })
        let open = try await hub.conflicts("field=name")
        #expect(open.count == count)
        return (0..<count).map { i in open.first { $0.member("challenger", "value") as? String == "张叁\(i)" }?["id"] as? Int ?? -1 }
    }

    @Test func eachDecisionKindBecomesAnOverrideWithItsProvenance() async throws {
        let hub = try StewardshipHub()
        let ids = try await nameConflicts(hub, count: 4)
        let listed = try await hub.conflicts("field=name")
        #expect(listed.allSatisfy { $0["status"] as? String == "open" && $0["golden_department"] as? String == "police"
                                    && $0["challenger_department"] as? String == "health" && $0["resolution"] == nil })

        // keep_golden: the value stays (no new version), its provenance becomes the admin's.
        let kept = try await hub.send("POST", "/v1/conflicts/\(ids[0])/resolve", ["decision": "keep_golden", "reason": "register checked"])
        #expect(kept.status == 200, "\(kept.text)")
        let keptBody = try kept.json()
        #expect(keptBody["status"] as? String == "resolved")
        #expect(keptBody.member("resolution", "decision") as? String == "keep_golden" && keptBody.member("resolution", "value") as? String == "张三0")
        #expect(keptBody.member("resolution", "by") as? String == "admin" && keptBody.member("resolution", "reason") as? String == "register checked")
        let p0 = try await hub.person(S.citizenID(0))
        #expect(p0.member("record", "name") as? String == "张三0" && p0["version"] as? Int == 1)
        #expect(p0.member("provenance", "name", "department") as? String == "admin")
        #expect(p0.member("provenance", "name", "by") as? String == "admin")
        #expect(p0.member("provenance", "name", "reason") as? String == "register checked")
        #expect(p0.member("provenance", "name", "conflict") as? Int == ids[0])
        #expect(p0.member("provenance", "sex", "department") as? String == "police")

        // take_challenger: a new version and a change event carrying the admin's provenance.
        let taken = try await hub.send("POST", "/v1/conflicts/\(ids[1])/resolve", ["decision": "take_challenger", "reason": "health record is newer"])
        #expect(taken.status == 200, "\(taken.text)")
        let p1 = try await hub.person(S.citizenID(1))
        #expect(p1.member("record", "name") as? String == "张叁1" && p1["version"] as? Int == 2)
        let changes = try await hub.get("/v1/changes?limit=1000")["events"] as? [[String: Any]] ?? []
        let event = try #require(changes.last)
        #expect(event["entity_id"] as? String == p1["id"] as? String && event["changed_fields"] as? [String] == ["name"])
        let source = try #require((event["sources"] as? [[String: Any]])?.first)
        #expect(source["department"] as? String == "admin" && source["by"] as? String == "admin"
                && source["reason"] as? String == "health record is newer" && source["conflict"] as? Int == ids[1])

        // set_value: a value of the admin's own, checked against the catalog.
        let set = try await hub.send("POST", "/v1/conflicts/\(ids[2])/resolve", ["decision": "set_value", "value": "张三丰", "reason": "civil record"])
        #expect(set.status == 200, "\(set.text)")
        #expect(try await hub.person(S.citizenID(2)).member("record", "name") as? String == "张三丰")

        // A decided conflict is not open any more.
        let again = try await hub.send("POST", "/v1/conflicts/\(ids[2])/resolve", ["decision": "keep_golden", "reason": "twice"])
        #expect(again.status == 409 && again.text.contains("conflict_not_open"))
        // A reason is required; a value only with set_value.
        #expect(try await hub.send("POST", "/v1/conflicts/\(ids[3])/resolve", ["decision": "keep_golden"]).status == 400)
        #expect(try await hub.send("POST", "/v1/conflicts/\(ids[3])/resolve", ["decision": "keep_golden", "value": "x", "reason": "r"]).status == 400)
        #expect(try await hub.send("POST", "/v1/conflicts/\(ids[3])/resolve", ["decision": "merge", "reason": "r"]).status == 400)
        #expect(try await hub.send("POST", "/v1/conflicts/999999/resolve", ["decision": "keep_golden", "reason": "r"]).status == 404)

        // A bad value is refused with the rule named, never the value.
        try await hub.push("st-health", [S.record(3, key: "h3-sex", ["name": "张叁3", "sex": "2", "dob": "1985-03-12"])])
        let sexConflict = try #require(try await hub.conflicts("field=sex").first?["id"] as? Int)
        let badCode = try await hub.send("POST", "/v1/conflicts/\(sexConflict)/resolve", ["decision": "set_value", "value": "X7Q", "reason": "typo"])
        #expect(badCode.status == 422 && badCode.text.contains("invalid_value") && badCode.text.contains("code_table.sex"), "\(badCode.text)")
        #expect(!badCode.text.contains("X7Q"))
        let badType = try await hub.send("POST", "/v1/conflicts/\(ids[3])/resolve", ["decision": "set_value", "value": 42, "reason": "typo"])
        #expect(badType.status == 422 && badType.text.contains("type.string"), "\(badType.text)")
        #expect(try await hub.get("/v1/conflicts/\(ids[3])")["status"] as? String == "open", "a refused decision changed the conflict")

        // The same disagreement delivered again does not reopen a decided conflict.
        try await hub.push("st-health", [S.record(0, key: "h0-again", ["name": "张叁0", "sex": "1", "dob": "1985-03-12"])])
        let forZero = try await hub.conflicts("status=all&field=name").filter { $0["entity_id"] as? String == p0["id"] as? String }
        #expect(forZero.map { $0["status"] as? String } == ["resolved"])

        // Every decision is in the audit log: who, what, why.
        let audit = try await hub.get("/v1/audit?limit=1000")["entries"] as? [[String: Any]] ?? []
        let decisions = audit.filter { $0["channel"] as? String == "stewardship" }
        #expect(decisions.map { $0["action"] as? String } == ["resolve conflict \(ids[0]): keep_golden", "resolve conflict \(ids[1]): take_challenger",
                                                             "resolve conflict \(ids[2]): set_value"])
        #expect(decisions.map { $0["purpose"] as? String } == ["register checked", "health record is newer", "civil record"])
        #expect(decisions.allSatisfy { $0["actor"] as? String == "admin" && $0["fields"] as? [String] == ["name"] })
        #expect(decisions[0]["entity_ids"] as? [String] == [p0["id"] as! String] && decisions[0]["first_position"] is NSNull)
        #expect(decisions[1]["first_position"] as? Int == event["position"] as? Int)
    }

    @Test func anOverrideRetiresOnNewInformationFromTheAuthorityNotOnRedelivery() async throws {
        let hub = try StewardshipHub()
        let id = S.citizenID(7)
        try await hub.push("st-police", [S.record(7, key: "p7", ["name": "王五", "sex": "1", "dob": "1970-01-01", "marital": "20"])])
        try await hub.push("st-health", [S.record(7, key: "h7", ["name": "王午", "sex": "1", "dob": "1970-01-01"])])
        let conflict = try #require(try await hub.conflicts().first?["id"] as? Int)
        #expect(try await hub.send("POST", "/v1/conflicts/\(conflict)/resolve", ["decision": "take_challenger", "reason": "resident's card"]).status == 200)

        // The police register sends what it had already said: the same record, then the same
        // name in a record that changed elsewhere. The override stays.
        let same = try await hub.push("st-police", [S.record(7, key: "p7", ["name": "王五", "sex": "1", "dob": "1970-01-01", "marital": "20"])])
        #expect(same.member("totals", "unchanged") as? Int == 1)
        try await hub.push("st-police", [S.record(7, key: "p7", ["name": "王五", "sex": "1", "dob": "1970-01-01", "marital": "21"])])
        var person = try await hub.person(id)
        #expect(person.member("record", "name") as? String == "王午" && person.member("provenance", "name", "department") as? String == "admin")
        #expect(person.member("record", "marital_status") as? String == "21")
        #expect(try await hub.conflicts().isEmpty, "the authority repeating its old value is not a new disagreement")
        // A lower-ranked department cannot move an override either: it opens a conflict.
        try await hub.push("st-civil", [S.record(7, key: "c7", ["name": "王武", "dob": "1970-01-01", "marital": "21"])])
        #expect(try await hub.person(id).member("record", "name") as? String == "王午")
        #expect(try await hub.conflicts().map { $0["golden_department"] as? String } == ["admin"])

        // New information at the authority: the override retires and the event says why.
        let retiring = try await hub.push("st-police", [S.record(7, key: "p7", ["name": "王伍", "sex": "1", "dob": "1970-01-01", "marital": "21"])])
        person = try await hub.person(id)
        #expect(person.member("record", "name") as? String == "王伍" && person.member("provenance", "name", "department") as? String == "police")
        let events = try await hub.get("/v1/changes?after=\((retiring["last_position"] as? Int ?? 1) - 1)")["events"] as? [[String: Any]] ?? []
        let sources = try #require(events.first?["sources"] as? [[String: Any]])
        #expect(sources.contains { $0["override_retired"] as? [String] == ["name"] && ($0["why"] as? String)?.contains("authoritative") == true },
                "\(sources)")
        let overrides = try hub.test.hub.pool.withConnection { try $0.query("SELECT count(*) AS n FROM field_overrides")[0]["n"] }
        #expect(overrides == "0")
    }

    @Test func conflictsCloseThemselvesWhenTheDisagreementGoesAway() async throws {
        let hub = try StewardshipHub()
        // The challenger comes round to the golden value.
        try await hub.push("st-police", [S.record(1, key: "p1", ["name": "赵六", "sex": "1", "dob": "1980-02-02", "marital": "10"])])
        try await hub.push("st-health", [S.record(1, key: "h1", ["name": "赵陆", "sex": "1", "dob": "1980-02-02"])])
        #expect(try await hub.conflicts().count == 1)
        try await hub.push("st-health", [S.record(1, key: "h1", ["name": "赵六", "sex": "1", "dob": "1980-02-02"])])
        #expect(try await hub.conflicts().isEmpty)
        // ...and the same disagreement again does not reopen it.
        try await hub.push("st-health", [S.record(1, key: "h1-old", ["name": "赵陆", "sex": "1", "dob": "1980-02-02"])])
        #expect(try await hub.conflicts().isEmpty)

        // The golden value changes to the challenger's: civil affairs (first for marital status)
        // first says 20, the police register says 10, then civil affairs says 10 too.
        try await hub.push("st-civil", [S.record(2, key: "c2", ["name": "钱七", "dob": "1981-03-03", "marital": "20"])])
        try await hub.push("st-police", [S.record(2, key: "p2", ["name": "钱七", "sex": "2", "dob": "1981-03-03", "marital": "10"])])
        let open = try await hub.conflicts()
        #expect(open.count == 1 && open.first?["field"] as? String == "marital_status" && open.first?["golden_department"] as? String == "civil-affairs")
        try await hub.push("st-civil", [S.record(2, key: "c2", ["name": "钱七", "dob": "1981-03-03", "marital": "10"])])
        #expect(try await hub.conflicts().isEmpty)
        let superseded = try await hub.conflicts("status=superseded")
        #expect(superseded.map { $0["field"] as? String } == ["name", "marital_status"])
        #expect(superseded.allSatisfy { $0["resolution"] == nil })
        // A superseded conflict cannot be resolved.
        let late = try await hub.send("POST", "/v1/conflicts/\(superseded[0]["id"] as? Int ?? 0)/resolve", ["decision": "keep_golden", "reason": "r"])
        #expect(late.status == 409)
    }

    @Test func bulkResolutionByFilterWithADryRun() async throws {
        let hub = try StewardshipHub()
        try await hub.push("st-police", (0..<6).map { S.record($0, key: "p\($0)", ["name": "孙\($0)", "sex": "1", "dob": "1990-01-01", "marital": "10"]) })
        try await hub.push("st-health", (0..<6).map { i in
            S.record(i, key: "h\(i)", ["name": i < 5 ? "孫\(i)" : "孙\(i)", "sex": i < 2 ? "2" : "1", "dob": "1990-01-01"])
        })
        let summary = try await hub.get("/v1/conflicts/summary")["summary"] as? [[String: Any]] ?? []
        #expect(summary.count == 2)
        let first = try #require(summary.first)
        #expect(first["resource"] as? String == "Person" && first["field"] as? String == "name" && first["open"] as? Int == 5
                && first["golden_department"] as? String == "police" && first["challenger_department"] as? String == "health")
        #expect(summary.last?["field"] as? String == "sex" && summary.last?["open"] as? Int == 2)

        let request: [String: Any] = ["filter": ["resource": "Person", "field": "name", "challenger_department": "health"],
                                       "decision": "take_challenger", "reason": "health checked the cards", "dry_run": true]
        let dry = try await hub.send("POST", "/v1/conflicts/resolve", request)
        #expect(dry.status == 200, "\(dry.text)")
        #expect(try dry.json()["dry_run"] as? Bool == true && dry.json()["matched"] as? Int == 5 && dry.json()["changed"] as? Int == 5)
        #expect(try await hub.conflicts("field=name").count == 5, "a dry run changed conflicts")
        #expect(try await hub.person(S.citizenID(0)).member("record", "name") as? String == "孙0")
        let auditAfterDryRun = try await hub.get("/v1/audit?limit=1000")["entries"] as? [[String: Any]] ?? []
        #expect(!auditAfterDryRun.contains { $0["channel"] as? String == "stewardship" }, "a dry run left audit entries")

        var real = request
        real["dry_run"] = false
        let done = try await hub.send("POST", "/v1/conflicts/resolve", real)
        #expect(try done.json()["dry_run"] as? Bool == false && done.json()["matched"] as? Int == 5 && done.json()["changed"] as? Int == 5)
        for i in 0..<5 {
            let p = try await hub.person(S.citizenID(i))
            #expect(p.member("record", "name") as? String == "孫\(i)" && p.member("provenance", "name", "department") as? String == "admin")
        }
        let after = try await hub.get("/v1/conflicts/summary")["summary"] as? [[String: Any]] ?? []
        #expect(after.map { $0["field"] as? String } == ["sex"])
        let resolved = try await hub.conflicts("status=resolved&field=name")
        #expect(resolved.count == 5 && resolved.allSatisfy { ($0["resolution"] as? [String: Any])?["decision"] as? String == "take_challenger" })
        #expect(try await hub.conflicts("status=all&department=health").count == 7)
        #expect(try await hub.conflicts("status=all&golden_department=health").isEmpty)

        let keep = try await hub.send("POST", "/v1/conflicts/resolve", ["filter": ["field": "sex", "golden_department": "police"],
                                                                        "decision": "keep_golden", "reason": "the register is right"])
        #expect(try keep.json()["matched"] as? Int == 2 && keep.json()["changed"] as? Int == 0)
        #expect(try await hub.conflicts().isEmpty)
        let audit = (try await hub.get("/v1/audit?limit=1000")["entries"] as? [[String: Any]] ?? []).filter { $0["channel"] as? String == "stewardship" }
        #expect(audit.count == 7 && audit.allSatisfy { ($0["action"] as? String)?.hasPrefix("bulk resolve conflict ") == true })

        #expect(try await hub.send("POST", "/v1/conflicts/resolve", ["filter": [:] as [String: Any], "decision": "keep_golden", "reason": "r"]).status == 400)
        #expect(try await hub.send("POST", "/v1/conflicts/resolve", ["filter": ["field": "name"], "decision": "set_value", "reason": "r"]).status == 400)
    }

    @Test func aBulkDecisionThatSettlesAnotherMatchedConflictSkipsIt() async throws {
        let hub = try StewardshipHub()
        try await hub.push("st-police", [S.record(9, key: "p9", ["name": "吴九", "sex": "1", "dob": "1990-01-01", "marital": "10"])])
        // Civil affairs and health both disagree, with the same value: two conflicts on one field.
        try await hub.push("st-civil", [S.record(9, key: "c9", ["name": "吳九", "dob": "1990-01-01", "marital": "10"])])
        try await hub.push("st-health", [S.record(9, key: "h9", ["name": "吳九", "sex": "1", "dob": "1990-01-01"])])
        #expect(try await hub.conflicts().count == 2)
        let done = try await hub.send("POST", "/v1/conflicts/resolve", ["filter": ["field": "name"], "decision": "take_challenger", "reason": "cards"])
        #expect(done.status == 200, "\(done.text)")
        #expect(try done.json()["matched"] as? Int == 2 && done.json()["changed"] as? Int == 1)
        let closed = try await hub.conflicts("status=all")
        #expect(closed.map { $0["status"] as? String } == ["resolved", "superseded"])
        #expect(try await hub.person(S.citizenID(9)).member("record", "name") as? String == "吳九")
    }

    /// Decisions and department batches on the same records at once: nothing fails, and every
    /// golden field with the admin's provenance has its override row, and no row is left without one.
    @Test func decisionsRacingDepartmentBatchesStayConsistent() async throws {
        let hub = try StewardshipHub()
        let people = 0..<24
        try await hub.push("st-police", people.map { S.record($0, key: "p\($0)", ["name": "甲\($0)", "sex": "1", "dob": "1990-01-01", "marital": "10"]) })
        try await hub.push("st-health", people.map { S.record($0, key: "h\($0)", ["name": "乙\($0)", "sex": "1", "dob": "1990-01-01"]) })
        async let decisions: [Int] = {
            var statuses: [Int] = []
            for round in 0..<3 {
                let r = try await hub.send("POST", "/v1/conflicts/resolve", ["filter": ["field": "name"], "decision": round % 2 == 0 ? "take_challenger" : "keep_golden",
                                                                              "reason": "round \(round)"])
                statuses.append(r.status)
                for id in try await hub.conflicts("field=name").prefix(5).compactMap({ $0["id"] as? Int }) {
                    statuses.append(try await hub.send("POST", "/v1/conflicts/\(id)/resolve", ["decision": "keep_golden", "reason": "one"]).status)
                }
            }
            return statuses
        }()
        async let batches: [Int] = {
            var statuses: [Int] = []
            for round in 0..<3 {
                // New information from the authority for half the people, the old disagreement again for the rest.
                let police = people.filter { $0 % 2 == round % 2 }.map { S.record($0, key: "p\($0)", ["name": "甲\($0)-\(round)", "sex": "1", "dob": "1990-01-01", "marital": "10"]) }
                let health = people.map { S.record($0, key: "h\($0)-\(round)", ["name": "乙\($0)", "sex": "1", "dob": "1990-01-01"]) }
                for (adapter, records) in [("st-police", police), ("st-health", health)] {
                    statuses.append(try await httpRequest(hub.base + "/v1/ingest/\(adapter)", method: "POST", token: hub.token,
                                                          body: try JSONSerialization.data(withJSONObject: records, options: [.sortedKeys])).status)
                }
            }
            return statuses
        }()
        let (d, b) = try await (decisions, batches)
        #expect(b.allSatisfy { $0 == 200 }, "\(b)")
        // A single decision may find its conflict settled by the bulk one just before (409); nothing else fails.
        #expect(d.allSatisfy { $0 == 200 || $0 == 409 }, "\(d)")
        let mismatched = try hub.test.hub.pool.withConnection { c in
            try c.query("""
                SELECT count(*) AS n FROM entities e FULL JOIN field_overrides o ON o.entity_id = e.id AND o.field = 'name'
                WHERE e.resource = 'Person' AND ((e.provenance::jsonb -> 'sources' -> ((e.provenance::jsonb -> 'fields' ->> 'name')::int) ->> 'department' = 'admin')
                      <> (o.entity_id IS NOT NULL))
                """)[0]["n"]
        }
        #expect(mismatched == "0")
    }

    @Test func aCorrectionAndItsRemoval() async throws {
        let hub = try StewardshipHub()
        try await hub.push("st-police", [S.record(3, key: "p3", ["name": "孙七", "sex": "1", "dob": "1985-03-12", "marital": "20"])])
        let entity = try #require(try await hub.person(S.citizenID(3))["id"] as? String)
        let path = "/v1/resources/Person/\(entity)/fields/"

        let corrected = try await hub.send("PUT", path + "name", ["value": "孙琪", "reason": "resident showed the ID card"])
        #expect(corrected.status == 200, "\(corrected.text)")
        let body = try corrected.json()
        #expect(body.member("record", "name") as? String == "孙琪" && body["version"] as? Int == 2)
        #expect(body.member("provenance", "name", "department") as? String == "admin" && body.member("provenance", "name", "conflict") is NSNull)
        #expect(body.member("provenance", "name", "reason") as? String == "resident showed the ID card")

        // Same checks as a decided value: type, code table, identifier rule, identity key; a reason.
        for (field, value, rule) in [("date_of_birth", "1985-13-40", "type.date"), ("mobile", "12345", "identifier.mobile"),
                                     ("sex", "5", "code_table.sex"), ("citizen_id", S.citizenID(4), "identity_key")] {
            let refused = try await hub.send("PUT", path + field, ["value": value, "reason": "r"])
            #expect(refused.status == 422 && refused.text.contains(rule), "\(field): \(refused.text)")
            #expect(!refused.text.contains(value), "the value was echoed: \(refused.text)")
        }
        #expect(try await hub.send("PUT", path + "name", ["value": "孙琪"]).status == 400)
        #expect(try await hub.send("PUT", path + "nickname", ["value": "x", "reason": "r"]).status == 404)
        #expect(try await hub.send("PUT", "/v1/resources/Person/00000000-0000-0000-0000-000000000000/fields/name", ["value": "x", "reason": "r"]).status == 404)

        // A field no department had: normalized by its identifier rule.
        let mobile = try await hub.send("PUT", path + "mobile", ["value": "+86 138 1234 5678", "reason": "resident's new number"])
        #expect(try mobile.json().member("record", "mobile") as? String == "13812345678")

        // Removal: the field goes back to survivorship's value (or to none).
        let removed = try await hub.send("DELETE", path + "name?reason=correction%20withdrawn")
        #expect(removed.status == 200, "\(removed.text)")
        #expect(try removed.json().member("record", "name") as? String == "孙七")
        #expect(try removed.json().member("provenance", "name", "department") as? String == "police")
        let noMobile = try await hub.send("DELETE", path + "mobile?reason=wrong%20person")
        #expect(try noMobile.json().member("record", "mobile") == nil && noMobile.json()["version"] as? Int == 5)
        #expect(try await hub.send("DELETE", path + "name?reason=again").status == 404)
        #expect(try await hub.send("DELETE", path + "sex").status == 400)

        let audit = (try await hub.get("/v1/audit?limit=1000")["entries"] as? [[String: Any]] ?? []).filter { $0["channel"] as? String == "stewardship" }
        #expect(audit.map { $0["action"] as? String } == ["correct Person.name", "correct Person.mobile", "remove override Person.name",
                                                          "remove override Person.mobile"])
        #expect(audit.map { $0["purpose"] as? String } == ["resident showed the ID card", "resident's new number", "correction withdrawn", "wrong person"])
    }
}
