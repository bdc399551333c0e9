import Feed
import Foundation
@testable import Hub
import Store
import Testing

/// Runs the examples of docs/feed.md against a real hub, in the order the document gives them.
///
/// Conventions of the document (see `DocExamples`):
/// - ```` ```sh test=NAME ```` and ```` ```python test=NAME ```` blocks are run with bash
///   (`-e -o pipefail`) and python3 in one shared folder; `background` ones keep running while
///   the next ones run and are stopped by this test.
/// - ```` ```text output=NAME ```` is the exact standard output of example NAME.
/// - ```` ```json example=event ```` is a sample event: its members must be those of the hub's
///   events.
///
/// The examples read HUB, ADMIN_TOKEN and WEBHOOK_PORT, set here, and SUB_ID, SUB_TOKEN,
/// WEBHOOK_SUB_ID and WEBHOOK_SECRET, which this test takes from the output of the examples that
/// create the subscriptions (what the admin hands to the platform). Between examples the test
/// plays the police department, pushing changes of the sample register through its adapter.
@Suite struct FeedDocExamplesTests {
    /// Every runnable example, in document order: a renamed, added or removed one fails here first.
    static let expectedExamples = ["create-subscription", "create-webhook-subscription", "invalid-subscription", "pause-and-resume",
                                   "snapshot", "pull", "pull-ndjson", "follow", "stream", "webhook-receiver", "redeliver",
                                   "rotate-secret", "audit"]

    static let documentPath = RepositoryRoot.path + "/docs/feed.md"

    @Test func theDocumentsExamplesRunAgainstARealHub() async throws {
        let markdown = try String(contentsOfFile: Self.documentPath, encoding: .utf8)
        let examples = try DocExamples.parse(markdown, file: "docs/feed.md")
        #expect(examples.map(\.name) == Self.expectedExamples)
        let outputs = try DocExamples.blocks(markdown, file: "docs/feed.md").reduce(into: [String: String]()) { out, block in
            if block.language == "text", let name = block.attributes["output"] { out[name] = block.code }
        }

        let session = try DocSession(examples: examples)
        defer { session.stop() }
        let police = PoliceRegister()
        try await session.push(police.sample)
        // Enough residents in the community that the snapshot takes several pages.
        try await session.push(PoliceRegister.page(PoliceRegister.residents(250, community: "510108001001")))

        // 1. Subscriptions: what the admin hands to the platform comes from the examples' output.
        let created = FeedTesting.json(try session.run("create-subscription"))
        let subID = try #require(created["id"] as? String)
        let subToken = try #require(created["token"] as? String)
        #expect(subID.hasPrefix("sub_") && subToken.hasPrefix("ro_sub_"))
        #expect(created["masking"] as? [String: String] == ["Person.citizen_id": "pseudonymized", "Person.name": "plain",
                                                            "Household.head_citizen_id": "pseudonymized"])
        #expect(created["area"] as? [String] == ["510108001001"])
        let purpose = try #require(created["purpose"] as? String)
        session.environment["SUB_ID"] = subID
        session.environment["SUB_TOKEN"] = subToken

        let webhook = FeedTesting.json(try session.run("create-webhook-subscription"))
        let delivery = try #require(webhook["delivery"] as? [String: Any])
        #expect(delivery["mode"] as? String == "webhook")
        #expect(delivery["url"] as? String == "http://127.0.0.1:\(session.webhookPort)/hook")
        let webhookID = try #require(webhook["id"] as? String)
        let secret = try #require((delivery["secrets"] as? [String])?.first)
        #expect(secret.hasPrefix("whsec_") && webhook["token"] is String)
        session.environment["WEBHOOK_SUB_ID"] = webhookID
        session.environment["WEBHOOK_SECRET"] = secret

        #expect(try session.run("invalid-subscription") == outputs["invalid-subscription"])
        let listed = try await httpRequest(session.hub.base + "/v1/subscriptions", token: session.hub.adminToken).json()
        #expect((listed["subscriptions"] as? [Any])?.count == 2, "the invalid spec created nothing")
        #expect(try session.run("pause-and-resume") == outputs["pause-and-resume"])

        // 3. Snapshot: every Person and Household of the community, masked, and the head position.
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

        // 4. Pull.
        let pull = FeedTesting.json(try session.run("pull"))
        #expect((pull["events"] as? [[String: Any]])?.count == 2 && pull["next"] is Int)
        let ndjson = try session.run("pull-ndjson")
        #expect(ndjson.lowercased().contains("recordonce-next-position: "))
        #expect(ndjson.split(whereSeparator: \.isNewline).filter { $0.hasPrefix("{\"specversion\":\"1.0\"") }.count == 2, "\(ndjson)")

        // The department changes things: one change the community does not see, one it sees, one move out.
        let education = try await session.push(police.change(PoliceRegister.head, ["WHCD": "10"]))
        let occupation = try await session.push(police.change(PoliceRegister.head, ["ZY": "高级工程师"]))
        let moved = try await session.push(police.change(PoliceRegister.son, ["SQ": "510108002001",
                                                                              "ZZ": "四川省成都市成华区双桥子街道示例路9号"]))
        let follow = try session.start("follow")
        let followed = follow.waitForOutput(timeout: 30) { $0.contains("\(moved) org.recordonce.person.removed") }
        // The follower saves its cursor after printing a page: let it finish that before stopping it.
        #expect(session.waitForFile("cursor.txt", timeout: 10) { $0 == String(moved) })
        follow.stop()
        let lines = followed.split(separator: "\n").map(String.init)
        let followedPositions: [String] = lines.map { line in String(line.prefix { $0 != " " }) }
        let expectedPositions = [String(occupation), String(moved)]
        #expect(followedPositions == expectedPositions, "the follower must print exactly the events after the snapshot that the community sees")
        #expect(lines.contains { $0.hasPrefix("\(occupation) org.recordonce.person.updated Person/") && $0.hasSuffix(" changed=occupation applied") },
                "\(followed)")
        #expect(lines.contains { $0.hasPrefix("\(moved) org.recordonce.person.removed Person/") && $0.hasSuffix(" changed= applied") })
        #expect(!lines.contains { $0.hasPrefix("\(education) ") }, "a change outside the grant was sent")
        let removedEntity = lines.first { $0.hasPrefix("\(moved) ") }?.split(separator: " ")[2].dropFirst("Person/".count)
        let storeAfterMove = try session.readText("platform-store.json")
        #expect(removedEntity != nil && !storeAfterMove.contains(String(removedEntity ?? "none")), "the removed resident is still in the store")

        // The sample event's members are the hub's.
        try await session.checkSampleEvent(markdown, position: occupation, token: subToken)

        // SSE: resumes after the cursor, pushes the next change, sends heartbeats.
        let stream = try session.start("stream")
        let later = try await session.push(police.change(PoliceRegister.head, ["ZY": "总工程师"]))
        let frames = stream.waitForOutput(timeout: 20) { $0.contains("id: \(later)\n") && $0.contains(": heartbeat") }
        stream.stop()
        #expect(frames.hasPrefix("retry: 2000\n\n"), "\(frames)")
        #expect(frames.contains("id: \(later)\ndata: {\"specversion\":\"1.0\",\"id\":\"\(later)\""))
        #expect(frames.split(separator: "\n").filter { $0.hasPrefix("id: ") } == ["id: \(later)"], "the stream did not resume after the cursor")
        #expect(frames.contains(": heartbeat"))

        // 5. Webhooks: the street's grid app saw the education change too, and the move out of its street.
        let receiver = try session.start("webhook-receiver")
        let expected = [education, occupation, moved, later]
        let received = receiver.waitForOutput(timeout: 30) { text in expected.allSatisfy { text.contains("verified \(webhookID)-\($0) ") } }
        #expect(received.hasPrefix("listening on http://127.0.0.1:\(session.webhookPort)/hook\n"))
        for position in expected {
            #expect(received.contains("verified \(webhookID)-\(position) org.recordonce.person."), "delivery \(position) missing: \(received)")
        }
        #expect(received.contains("verified \(webhookID)-\(moved) org.recordonce.person.removed "))
        #expect(received.contains(" signatures=1\n") && !received.contains("rejected"))
        // The receiver's check can fail: a forged signature is answered 400.
        let forged = try await httpRequest("http://127.0.0.1:\(session.webhookPort)/hook", method: "POST", body: Data("{}".utf8), headers: [
            "webhook-id": "\(webhookID)-999999", "webhook-timestamp": String(Int(Date().timeIntervalSince1970)),
            "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "Content-Type": "application/json"])
        #expect(forged.status == 400)
        #expect(receiver.waitForOutput(timeout: 5) { $0.contains("rejected \(webhookID)-999999") }.contains("rejected \(webhookID)-999999"))

        #expect(try session.run("redeliver") == "HTTP 204\n")
        let again = receiver.waitForOutput(timeout: 30) { text in expected.allSatisfy { text.contains("duplicate \(webhookID)-\($0)\n") } }
        for position in expected { #expect(again.contains("duplicate \(webhookID)-\(position)\n")) }

        let rotated = FeedTesting.json(try session.run("rotate-secret"))
        #expect((rotated["delivery"] as? [String: Any])?["secret_count"] as? Int == 2)
        #expect(try session.readText("new-webhook-secret.txt").hasPrefix("whsec_"))
        let afterRotation = try await session.push(police.change(PoliceRegister.head, ["ZY": "退休"]))
        let rotatedOutput = receiver.waitForOutput(timeout: 30) { $0.contains("verified \(webhookID)-\(afterRotation) ") }
        #expect(rotatedOutput.contains("verified \(webhookID)-\(afterRotation) org.recordonce.person.updated "), "\(rotatedOutput)")
        #expect(rotatedOutput.split(separator: "\n").contains { $0.contains("-\(afterRotation) ") && $0.hasSuffix(" signatures=2") })
        receiver.stop()

        // 7. Audit: the community's snapshot, pulls and stream, each with its purpose.
        let audit = FeedTesting.json(try session.run("audit"))
        let entries = try #require(audit["entries"] as? [[String: Any]])
        #expect(Set(entries.compactMap { $0["channel"] as? String }) == ["snapshot", "pull", "stream"])
        #expect(entries.first?["id"] as? Int == 1 && entries.first?["channel"] as? String == "pull"
                && entries.first?["first_position"] as? Int == 1, "the document says the first entry is pause-and-resume's pull")
        #expect(entries.allSatisfy { $0["purpose"] as? String == purpose && $0["actor"] as? String == "subscription:" + subID })
        #expect(entries.allSatisfy { !(($0["fields"] as? [String]) ?? []).contains("political_status") })
    }

    @Test func theRunnerRejectsMalformedBlocksAndReportsFailingExamples() throws {
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```sh test=a\necho\n", file: "x.md") }
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```sh test=a\n```\n```sh test=a\n```\n", file: "x.md") }
        #expect(throws: DocExampleSyntaxError.self) { try DocExamples.parse("```ruby test=a\nputs 1\n```\n", file: "x.md") }
        let parsed = try DocExamples.parse("text\n```sh\nnot run\n```\n```python test=b background\nprint(1)\n```\n", file: "x.md")
        #expect(parsed.map(\.name) == ["b"] && parsed[0].background && parsed[0].line == 5 && parsed[0].code == "print(1)\n")

        // A failing command fails its example: bash runs with -e and pipefail.
        let folder = try temporaryFolder("ro-docex")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let failing = DocExample(name: "failing", language: .sh, background: false, code: "false | cat\necho unreachable\n", line: 1)
        let run = try ExampleProcess(failing, folder: folder, environment: [:])
        #expect(run.finish(timeout: 10) == 1)
        #expect(run.stdout.isEmpty)
        // A background example and what it started are stopped by id.
        let sleeper = try ExampleProcess(DocExample(name: "sleeper", language: .sh, background: true, code: "sleep 30 | cat\n", line: 1),
                                         folder: folder, environment: [:])
        usleep(200_000)
        let children = ExampleProcess.descendants(of: sleeper.process.processIdentifier)
        #expect(!children.isEmpty)
        sleeper.stop()
        #expect(!sleeper.process.isRunning)
        usleep(100_000)
        #expect(!children.contains(where: ExampleProcess.isAlive), "a child of the example outlived it")
    }
}

/// The hub, the shared folder and environment of one run of the document's examples.
final class DocSession: @unchecked Sendable {
    static let policeToken = "police-push-token-for-doc-examples"

    let hub: TestHub
    let folder: String
    let examples: [String: DocExample]
    let webhookPort: Int
    var environment: [String: String]
    private var running: [ExampleProcess] = []

    init(examples: [DocExample]) throws {
        hub = try TestHub(adapters: [
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { file: "police.token" } }"#,
        ], beforeStart: { folder in
            try Self.policeToken.write(toFile: folder + "/adapters/police.token", atomically: true, encoding: .utf8)
        }, configure: { config in
            config.feed.heartbeatInterval = 0.5
            config.feed.webhooks.initialBackoff = 0.05
            config.feed.webhooks.maxBackoff = 0.3
            config.feed.webhooks.requestTimeout = 3
        })
        folder = try temporaryFolder("ro-feed-doc")
        self.examples = Dictionary(uniqueKeysWithValues: examples.map { ($0.name, $0) })
        webhookPort = try FreePort.pick()
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        environment = ["HUB": hub.base, "ADMIN_TOKEN": hub.adminToken, "WEBHOOK_PORT": String(webhookPort),
                       "PATH": RepositoryRoot.path + "/.build/debug:" + path]
    }

    /// Runs a foreground example to its end; a non-zero exit or a timeout is a recorded failure.
    func run(_ name: String, timeout: Double = 30) throws -> String {
        let example = try #require(examples[name], "docs/feed.md has no example \(name)")
        let process = try ExampleProcess(example, folder: folder, environment: environment)
        let status = process.finish(timeout: timeout)
        #expect(status == 0, "example \(name) (docs/feed.md:\(example.line)) ended with \(status.map(String.init) ?? "a timeout"):\n\(process.stdout)\n\(process.stderr)")
        return process.stdout
    }

    /// Starts a background example; `stop()` ends it if the test does not.
    func start(_ name: String) throws -> ExampleProcess {
        let example = try #require(examples[name], "docs/feed.md has no example \(name)")
        let process = try ExampleProcess(example, folder: folder, environment: environment)
        running.append(process)
        return process
    }

    /// Waits until a file of the shared folder satisfies `condition`; false after `timeout`.
    func waitForFile(_ file: String, timeout: Double, until condition: (String) -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? readText(file), condition(text) { return true }
            usleep(50_000)
        }
        return false
    }

    func readText(_ file: String) throws -> String {
        try String(contentsOfFile: folder + "/" + file, encoding: .utf8)
    }

    /// Pushes a police register page; returns the feed position of its last event.
    @discardableResult
    func push(_ page: Data) async throws -> Int64 {
        let response = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: Self.policeToken, body: page)
        #expect(response.status == 200, "\(response.text)")
        let body = try response.json()
        #expect((body["events"] as? Int ?? 0) >= 1, "the push changed nothing: \(response.text)")
        return Int64(body["last_position"] as? Int ?? -1)
    }

    /// Persons and households whose division codes place them in `prefix`, counted by the database.
    func countInArea(_ prefix: String) throws -> (persons: Int, households: Int) {
        try hub.hub.pool.withConnection { c in
            let row = try c.query("""
                SELECT count(*) FILTER (WHERE resource = 'Person' AND (record->>'community_code' LIKE $1 OR record->>'registered_division' LIKE $1)) AS p,
                       count(*) FILTER (WHERE resource = 'Household' AND record->>'division_code' LIKE $1) AS h
                FROM entities WHERE version > 0
                """, [prefix + "%"])[0]
            return (Int(row["p"] ?? "") ?? -1, Int(row["h"] ?? "") ?? -1)
        }
    }

    /// The document's sample event has exactly the members of the hub's event at `position`.
    func checkSampleEvent(_ markdown: String, position: Int64, token: String) async throws {
        let block = try #require(try DocExamples.blocks(markdown, file: "docs/feed.md").first { $0.attributes["example"] == "event" })
        let sample = FeedTesting.json(block.code)
        let page = try await httpRequest(hub.base + "/v1/feed?after=\(position - 1)&limit=1", token: token).json()
        let real = try #require((page["events"] as? [[String: Any]])?.first)
        #expect(Set(sample.keys) == Set(real.keys))
        let sampleData = try #require(sample["data"] as? [String: Any])
        let realData = try #require(real["data"] as? [String: Any])
        #expect(Set(sampleData.keys) == Set(realData.keys))
        #expect(sample["type"] as? String == real["type"] as? String && sample["source"] as? String == real["source"] as? String)
        let sampleRecord = Set((sampleData["record"] as? [String: Any] ?? [:]).keys)
        let realRecord = Set((realData["record"] as? [String: Any] ?? [:]).keys)
        #expect(sampleRecord == realRecord, "the sample record's fields are not what the community subscription receives")
        let sampleSource = Set(((sampleData["sources"] as? [[String: Any]])?.first ?? [:]).keys)
        let realSource = Set(((realData["sources"] as? [[String: Any]])?.first ?? [:]).keys)
        #expect(sampleSource == realSource)
    }

    func stop() {
        for process in running { process.stop() }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// The police register's sample (mappings/samples/police-hukou.json), changed row by row as the
/// department would: each change keeps the earlier ones.
final class PoliceRegister: @unchecked Sendable {
    /// A household head in community 510108001001.
    static let head = "510108196503140114"
    /// A son of that household, registered in the same community.
    static let son = "510108199001050139"

    private(set) var items: [[String: String]]

    init() {
        let data = FileManager.default.contents(atPath: RepositoryRoot.path + "/mappings/samples/police-hukou.json") ?? Data()
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
        items = ((object?["data"] as? [String: Any])?["items"] as? [[String: String]]) ?? []
    }

    var sample: Data { Self.page(items) }

    /// Changes one person's row and returns a page with that row alone (empty when the row is unknown).
    func change(_ citizenID: String, _ values: [String: String]) -> Data {
        guard let index = items.firstIndex(where: { $0["GMSFHM"] == citizenID }) else { return Data() }
        items[index].merge(values) { $1 }
        return Self.page([items[index]])
    }

    /// `count` synthetic residents registered in `community`, with valid citizen ID numbers.
    static func residents(_ count: Int, community: String) -> [[String: String]] {
        (0..<count).map { i in
            let id = citizenID("510108" + "1980" + String(format: "%02d%02d", 1 + i / 28 % 12, 1 + i % 28) + String(format: "%03d", 100 + i / 336))
            return ["GMSFHM": id, "XM": "居民\(i)", "XB": i % 2 == 0 ? "2" : "1", "CSRQ": String(id.dropFirst(6).prefix(8)),
                    "HH": "510108009999", "DJJG": "成都市公安局成华区分局猛追湾派出所", "YHZGX": "非亲属",
                    "ZZ": "四川省成都市成华区猛追湾街道示例路\(i)号", "SQ": community, "ZXBS": "0"]
        }
    }

    /// The 17 digits given and their GB 11643 check character (ISO 7064 MOD 11-2).
    static func citizenID(_ digits: String) -> String {
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(digits.compactMap(\.wholeNumberValue), weights).reduce(0) { $0 + $1.0 * $1.1 }
        return digits + String(Array("10X98765432")[sum % 11])
    }

    static func page(_ rows: [[String: String]]) -> Data {
        (try? JSONSerialization.data(withJSONObject: ["code": 0, "data": ["page": 1, "items": rows]])) ?? Data()
    }
}

/// A TCP port nothing listens on right now (the kernel's choice for port 0).
enum FreePort {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    static func pick() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket() failed with errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw Failure(description: "bind() to a free port failed with errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
