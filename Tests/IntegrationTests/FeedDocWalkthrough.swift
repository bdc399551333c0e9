import Feed
import Foundation
@testable import Hub
import Store
import Testing

/// The steps of docs/feed.md in order, each running the document's examples and checking what
/// they print and do. State that the document passes from one example to the next (ids, tokens,
/// positions of the department's changes) lives here.
final class FeedDocWalkthrough: @unchecked Sendable {
    let session: DocSession
    let markdown: String
    /// The `text output=NAME` blocks: exact outputs the document promises.
    let outputs: [String: String]
    let police = PoliceRegister()
    private var subID = ""
    private var subToken = ""
    private var purpose = ""
    private var webhookID = ""
    /// Feed positions of the department's changes after the snapshot.
    private var education: Int64 = 0
    private var occupation: Int64 = 0
    private var moved: Int64 = 0
    private var later: Int64 = 0

    init(markdown: String, examples: [DocExample]) throws {
        self.markdown = markdown
        session = try DocSession(examples: examples)
        outputs = try DocExamples.blocks(markdown, file: "docs/feed.md").reduce(into: [String: String]()) { out, block in
            if block.language == "text", let name = block.attributes["output"] { out[name] = block.code }
        }
    }

    /// Section 1's table of Person defaults says what `FieldPolicy.leastPrivilege` gives for the
    /// catalog in use: every masked or omitted field listed under its policy, listed plain fields plain.
    func documentedDefaultsMatchTheCatalog() throws {
        let person = try #require(session.hub.hub.ingest.registry.catalog.resource("Person"))
        var documented: [String: String] = [:]
        let table = markdown.components(separatedBy: "| Person field | default |\n")
        #expect(table.count == 2, "docs/feed.md has no table of Person defaults")
        for row in table.last?.split(separator: "\n").dropFirst().prefix(while: { $0.hasPrefix("|") }) ?? [] {
            let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count == 2, let policy = cells[1].split(separator: " ").first else { continue }
            for name in cells[0].components(separatedBy: "`").enumerated().filter({ $0.offset % 2 == 1 }).map(\.element) {
                documented[name] = String(policy)
            }
        }
        for field in person.fields {
            let policy = FieldPolicy.leastPrivilege(for: field).rawValue
            if policy == "plain" {
                #expect(documented[field.name] == nil || documented[field.name] == "plain", "docs/feed.md: Person.\(field.name) defaults to plain")
            } else {
                #expect(documented[field.name] == policy, "docs/feed.md: Person.\(field.name) defaults to \(policy)")
            }
        }
        #expect(documented.keys.allSatisfy { person.field($0) != nil }, "the table names a field the catalog does not have")
    }

    /// Before any example: the police register's sample, and enough residents in the community
    /// that the snapshot takes several pages.
    func departmentLoadsTheRegister() async throws {
        try await session.push(police.sample)
        try await session.push(PoliceRegister.page(PoliceRegister.residents(250, community: "510108001001")))
    }

    /// Section 1: what the admin hands to the platform comes from the examples' output.
    func adminCreatesTheSubscriptions() async throws {
        let created = FeedTesting.json(try session.run("create-subscription"))
        subID = try #require(created["id"] as? String)
        subToken = try #require(created["token"] as? String)
        purpose = try #require(created["purpose"] as? String)
        #expect(subID.hasPrefix("sub_") && subToken.hasPrefix("ro_sub_"))
        #expect(created["masking"] as? [String: String] == ["Person.citizen_id": "pseudonymized", "Person.name": "plain",
                                                            "Household.head_citizen_id": "pseudonymized"])
        #expect(created["area"] as? [String] == ["510108001001"])
        session.environment["SUB_ID"] = subID
        session.environment["SUB_TOKEN"] = subToken

        let webhook = FeedTesting.json(try session.run("create-webhook-subscription"))
        let delivery = try #require(webhook["delivery"] as? [String: Any])
        #expect(delivery["mode"] as? String == "webhook")
        #expect(delivery["url"] as? String == "http://127.0.0.1:\(session.webhookPort)/hook")
        webhookID = try #require(webhook["id"] as? String)
        let secret = try #require((delivery["secrets"] as? [String])?.first)
        #expect(secret.hasPrefix("whsec_") && webhook["token"] is String)
        #expect(webhook["area"] as? [String] == ["510108001"] && webhook["masking"] as? [String: String] == ["Person.name": "plain"],
                "the JSON5 spec file was not read")
        session.environment["WEBHOOK_SUB_ID"] = webhookID
        session.environment["WEBHOOK_SECRET"] = secret

        #expect(try session.run("invalid-subscription") == outputs["invalid-subscription"])
        let listed = try await httpRequest(session.hub.base + "/v1/subscriptions", token: session.hub.adminToken).json()
        #expect((listed["subscriptions"] as? [Any])?.count == 2, "the invalid spec created nothing")
        #expect(try session.run("pause-and-resume") == outputs["pause-and-resume"])
    }

    /// Section 3: every Person and Household of the community, masked, and the head position.
    func platformLoadsTheSnapshot() throws {
        let head = try session.hub.hub.pool.withConnection { try ChangeLog.head($0) }
        let snapshot = try session.run("snapshot")
        let (persons, households) = try session.countInArea("510108001001")
        #expect(persons > 250 && households > 0, "the snapshot should take several pages")
        #expect(snapshot == "snapshot: \(persons) Person records\nsnapshot: \(households) Household records\n"
                + "continue the feed after position \(head)\n")
        let store = try session.readText("platform-store.json")
        #expect(!store.contains(PoliceRegister.head), "a citizen ID left the hub unmasked")
        let stored = (try JSONSerialization.jsonObject(with: Data(store.utf8)) as? [String: [String: Any]]) ?? [:]
        #expect(stored.count == persons + households)
        let storedPersons = stored.values.filter { $0["resource"] as? String == "Person" }.compactMap { $0["record"] as? [String: Any] }
        #expect(storedPersons.count == persons && storedPersons.allSatisfy { ($0["citizen_id"] as? String)?.hasPrefix("ps_") == true })
        #expect(storedPersons.allSatisfy { $0["political_status"] == nil && $0["date_of_birth"] == nil })
    }

    /// Section 4, pull: JSON and NDJSON with the next-position header.
    func platformPulls() throws {
        let pull = FeedTesting.json(try session.run("pull"))
        #expect((pull["events"] as? [[String: Any]])?.count == 2 && pull["next"] is Int)
        let ndjson = try session.run("pull-ndjson")
        #expect(ndjson.lowercased().contains("recordonce-next-position: "))
        #expect(ndjson.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("{\"specversion\":\"1.0\"") }.count == 2, "\(ndjson)")
    }

    /// Section 4, the follower: the department makes one change the community does not see, one
    /// it sees, and moves a resident out; the follower prints exactly the last two.
    func platformFollowsTheChanges() async throws {
        education = try await session.push(police.change(PoliceRegister.head, ["WHCD": "10"]))
        occupation = try await session.push(police.change(PoliceRegister.head, ["ZY": "高级工程师"]))
        moved = try await session.push(police.change(PoliceRegister.son, ["SQ": "510108002001", "ZZ": "四川省成都市成华区双桥子街道示例路9号"]))
        let follow = try session.start("follow")
        let followed = follow.waitForOutput(timeout: 60) { $0.contains("\(self.moved) org.recordonce.person.removed") }
        // The follower saves its cursor after printing a page: let it finish that before stopping it.
        #expect(session.waitForFile("cursor.txt", timeout: 30) { $0 == String(self.moved) })
        follow.stop()
        let lines = followed.split(separator: "\n").map(String.init)
        let positions: [String] = lines.map { line in String(line.prefix { $0 != " " }) }
        let expected = [String(occupation), String(moved)]
        #expect(positions == expected, "the follower must print exactly the events after the snapshot that the community sees:\n\(followed)\n\(follow.stderr)")
        #expect(lines.contains { $0.hasPrefix("\(occupation) org.recordonce.person.updated Person/") && $0.hasSuffix(" changed=occupation applied") })
        #expect(lines.contains { $0.hasPrefix("\(moved) org.recordonce.person.removed Person/") && $0.hasSuffix(" changed= applied") })
        let subject = lines.first { $0.hasPrefix("\(moved) ") }?.split(separator: " ").dropFirst(2).first
        let removedEntity = try #require(subject?.dropFirst("Person/".count), "no removal line:\n\(followed)")
        #expect(!(try session.readText("platform-store.json")).contains(String(removedEntity)), "the removed resident is still in the store")
        try await checkSampleEvent()
    }

    /// Section 2's sample event has exactly the members of the hub's event for the occupation change.
    private func checkSampleEvent() async throws {
        let block = try #require(try DocExamples.blocks(markdown, file: "docs/feed.md").first { $0.attributes["example"] == "event" })
        let sample = FeedTesting.json(block.code)
        let page = try await httpRequest(session.hub.base + "/v1/feed?after=\(occupation - 1)&limit=1", token: subToken).json()
        let real = try #require((page["events"] as? [[String: Any]])?.first)
        #expect(Set(sample.keys) == Set(real.keys))
        #expect(sample["type"] as? String == real["type"] as? String && sample["source"] as? String == real["source"] as? String)
        let sampleData = try #require(sample["data"] as? [String: Any])
        let realData = try #require(real["data"] as? [String: Any])
        #expect(Set(sampleData.keys) == Set(realData.keys))
        let sampleRecord = Set((sampleData["record"] as? [String: Any] ?? [:]).keys)
        let realRecord = Set((realData["record"] as? [String: Any] ?? [:]).keys)
        #expect(sampleRecord == realRecord, "the sample record's fields are not what the community subscription receives")
        let sampleSource = Set(((sampleData["sources"] as? [[String: Any]])?.first ?? [:]).keys)
        let realSource = Set(((realData["sources"] as? [[String: Any]])?.first ?? [:]).keys)
        #expect(sampleSource == realSource)
    }

    /// Section 4, SSE: resumes after the cursor, pushes the next change, sends heartbeats.
    func platformStreams() async throws {
        let stream = try session.start("stream")
        later = try await session.push(police.change(PoliceRegister.head, ["ZY": "总工程师"]))
        let frames = stream.waitForOutput(timeout: 60) { $0.contains("id: \(self.later)\n") && $0.contains(": heartbeat") }
        stream.stop()
        #expect(frames.hasPrefix("retry: 2000\n\n"), "\(frames)\n\(stream.stderr)")
        #expect(frames.contains("id: \(later)\ndata: {\"specversion\":\"1.0\",\"id\":\"\(later)\""))
        #expect(frames.split(separator: "\n").filter { $0.hasPrefix("id: ") } == ["id: \(later)"], "the stream did not resume after the cursor")
        #expect(frames.contains(": heartbeat"))
    }

    /// Sections 5 and 6: the street's grid app also sees the education change, and the move out of
    /// its street; every delivery verifies, a forged one does not, redeliveries are recognised,
    /// and a rotation adds a second signature the old secret still verifies.
    func gridAppReceivesSignedWebhooks() async throws {
        let receiver = try session.start("webhook-receiver")
        let expected = [education, occupation, moved, later]
        let id = webhookID
        let received = receiver.waitForOutput(timeout: 60) { text in expected.allSatisfy { text.contains("verified \(id)-\($0) ") } }
        #expect(received.hasPrefix("listening on http://127.0.0.1:\(session.webhookPort)/hook\n"))
        for position in expected {
            #expect(received.contains("verified \(id)-\(position) org.recordonce.person."), "delivery \(position) missing:\n\(received)\n\(receiver.stderr)")
        }
        #expect(received.contains("verified \(id)-\(moved) org.recordonce.person.removed "))
        #expect(received.contains(" signatures=1\n") && !received.contains("rejected"))

        // The receiver's check can fail: a forged signature is answered 400.
        let forged = try await httpRequest("http://127.0.0.1:\(session.webhookPort)/hook", method: "POST", body: Data("{}".utf8), headers: [
            "webhook-id": "\(id)-999999", "webhook-timestamp": String(Int(Date().timeIntervalSince1970)),
            "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "Content-Type": "application/json"])
        #expect(forged.status == 400)
        #expect(receiver.waitForOutput(timeout: 30) { $0.contains("rejected \(id)-999999") }.contains("rejected \(id)-999999"))

        #expect(try session.run("redeliver") == "HTTP 204\n")
        let again = receiver.waitForOutput(timeout: 60) { text in expected.allSatisfy { text.contains("duplicate \(id)-\($0)\n") } }
        for position in expected { #expect(again.contains("duplicate \(id)-\(position)\n")) }

        let rotated = FeedTesting.json(try session.run("rotate-secret"))
        #expect((rotated["delivery"] as? [String: Any])?["secret_count"] as? Int == 2)
        #expect(try session.readText("new-webhook-secret.txt").hasPrefix("whsec_"))
        let afterRotation = try await session.push(police.change(PoliceRegister.head, ["ZY": "退休"]))
        let output = receiver.waitForOutput(timeout: 60) { $0.contains("verified \(id)-\(afterRotation) ") }
        receiver.stop()
        #expect(output.split(separator: "\n").contains { $0.hasPrefix("verified \(id)-\(afterRotation) org.recordonce.person.updated ")
                                                          && $0.hasSuffix(" signatures=2") }, "\(output)")
    }

    /// Section 7: the community's pulls, snapshot and stream, each with its purpose.
    func adminReadsTheAudit() throws {
        let audit = FeedTesting.json(try session.run("audit"))
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(Set(entries.compactMap { $0["channel"] as? String }) == ["snapshot", "pull", "stream"])
        #expect(entries.first?["id"] as? Int == 1 && entries.first?["channel"] as? String == "pull"
                && entries.first?["first_position"] as? Int == 1, "the document says the first entry is pause-and-resume's pull")
        #expect(entries.allSatisfy { $0["purpose"] as? String == purpose && $0["actor"] as? String == "subscription:" + subID })
        #expect(entries.allSatisfy { !(($0["fields"] as? [String]) ?? []).contains("political_status") })
    }

    /// Section 8: the error answers are the ones the document prints.
    func platformMeetsErrorAnswers() throws {
        #expect(try session.run("error-answers") == outputs["error-answers"])
    }
}
