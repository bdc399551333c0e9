import Foundation
@testable import Hub
import Store
import Testing

/// The hub, the shared folder and environment of one run of the document's examples.
final class DocSession: @unchecked Sendable {
    static let policeToken = "police-push-token-for-doc-examples"

    let hub: TestHub
    let folder: String
    let examples: [String: DocExample]
    let webhookPort: Int
    var environment: [String: String]
    private var running: [ExampleProcess] = []

    /// The document the examples come from (for failure messages).
    let document: String

    /// `adapters` are declared besides the police register's (the feed guide needs only that one).
    init(examples: [DocExample], document: String = "docs/feed.md", adapters: [String: String] = [:]) throws {
        self.document = document
        hub = try TestHub(adapters: adapters.merging([
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { file: "police.token" } }"#,
        ]) { $1 }, beforeStart: { folder in
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
    func run(_ name: String, timeout: Double = 60) throws -> String {
        let example = try #require(examples[name], "\(document) has no example \(name)")
        #expect(!example.background, "\(document):\(example.line): example \(name) is marked background but runs to its end")
        let process = try ExampleProcess(example, folder: folder, environment: environment)
        let status = process.finish(timeout: timeout)
        #expect(status == 0, "example \(name) (\(document):\(example.line)) ended with \(status.map(String.init) ?? "a timeout"):\n\(process.stdout)\n\(process.stderr)")
        return process.stdout
    }

    /// Starts a background example; `stop()` ends it if the test does not.
    func start(_ name: String) throws -> ExampleProcess {
        let example = try #require(examples[name], "\(document) has no example \(name)")
        #expect(example.background, "\(document):\(example.line): example \(name) keeps running but is not marked background")
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
