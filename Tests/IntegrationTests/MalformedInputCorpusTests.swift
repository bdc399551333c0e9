import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing
@testable import Hub

/// The malformed-input corpus (issue #10): hundreds of pushes in every push format (JSON, NDJSON,
/// CSV in UTF-8 and GB18030, XML), each a batch of good records with bad ones among them, against
/// one real hub. For every case: no 5xx; every bad record rejected with a rule and a position, and
/// no message quoting the bad value; every good record beside it stored (read back through the
/// API); the hub ready afterwards. Cases come from a seeded generator (`MalformedCases`) and from
/// the hand-written files in Tests/MalformedInput (listed in its cases.json).
@Suite(.serialized) struct MalformedInputCorpusTests {
    static let seed: UInt64 = 0x5EED_0010

    @Test func everyCaseRejectsOnlyTheBadRecordsAndNeverAnswers5xx() async throws {
        let corpus = try CorpusHub()
        var cases = MalformedCases.generated(seed: Self.seed, count: 300)
        cases += try MalformedCases.handWritten()
        #expect(cases.count >= 300)
        var failures: [String] = []
        for c in cases {
            let problems = try await corpus.run(c)
            if !problems.isEmpty { failures.append("\(c.name): " + problems.joined(separator: "; ")) }
            if failures.count > 20 { break }
        }
        #expect(failures.isEmpty, "\(failures.count) case(s) failed:\n\(failures.joined(separator: "\n"))")

        // The rejects list shows rules and positions, never a bad value.
        let rejects = try await httpRequest(corpus.hub.base + "/v1/rejects?limit=1000", token: corpus.hub.adminToken)
        #expect(rejects.status == 200)
        #expect(!rejects.text.contains(MalformedCases.secret))
        #expect(!rejects.text.contains("root:x:0"))
    }

    /// Text that PostgreSQL cannot hold in the admin API's bodies: refused, not a 500, never cut short.
    @Test func nulCharactersInAdminBodiesAreRefused() async throws {
        let corpus = try CorpusHub()
        let subscription = try await httpRequest(corpus.hub.base + "/v1/subscriptions", method: "POST", token: corpus.hub.adminToken,
                                                 body: Data(#"{"name":"a\u0000b","purpose":"p","resources":["Person"]}"#.utf8))
        #expect(subscription.status == 400, "\(subscription.text)")
        #expect(subscription.text.contains("NUL"))
        let checkpoint = try await httpRequest(corpus.hub.base + "/v1/adapters/health-records/checkpoint", method: "PUT",
                                               token: corpus.hub.adminToken, body: Data(#"{"checkpoint":"a\u0000b"}"#.utf8))
        #expect(checkpoint.status == 400, "\(checkpoint.text)")
    }

    @Test func slowBodiesAndStalledConnectionsLeaveTheHubReady() async throws {
        let corpus = try CorpusHub()
        let cases = MalformedCases.generated(seed: Self.seed ^ 0xFF, count: 4)
        for var c in cases {
            c.slow = true
            let problems = try await corpus.run(c)
            #expect(problems.isEmpty, "\(c.name): \(problems)")
        }
        // A body that stops half-way and a connection that never finishes its headers.
        let stalled = try RawHTTP.connect(port: corpus.hub.hub.port)
        try stalled.send("POST /v1/ingest/health-records HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(corpus.hub.adminToken)\r\nContent-Length: 100000\r\n\r\n[{\"jkdabh\":")
        let loris = try RawHTTP.connect(port: corpus.hub.hub.port)
        try loris.send("POST /v1/ingest/health-records HTTP/1.1\r\nHost: x\r\n")
        let ready = try await httpRequest(corpus.hub.base + "/readyz")
        #expect(ready.status == 200)
        stalled.close()
        loris.close()
        let after = try await corpus.run(MalformedCases.generated(seed: Self.seed ^ 0xFE, count: 1)[0])
        #expect(after.isEmpty, "\(after)")
    }
}

/// One push of the corpus and what must come of it.
struct MalformedCase: Sendable {
    var name: String
    var adapter: String
    var body: Data
    /// 200 (records read, some rejected) or 400 (not one record could be read).
    var status: Int
    /// Citizen IDs of the good records: each must be stored as a Person.
    var good: [String]
    /// Rules a bad record may be rejected with; at least one rejected item is expected.
    var rules: [String]
    /// Send the body in small pieces with pauses.
    var slow = false
}

/// A hub with the demo mappings (police-hukou reads an envelope, data.items) plus two variants for the formats the demo has no adapter for:
/// health records as NDJSON and the death register as UTF-8 CSV.
final class CorpusHub: @unchecked Sendable {
    let hub: TestHub
    let mappings: String

    init() throws {
        mappings = try temporaryFolder("ro-corpus-mappings")
        let files = try FileManager.default.contentsOfDirectory(atPath: RepositoryRoot.path + "/mappings")
        for file in files where file.hasSuffix(".json5") && !file.hasSuffix(".tests.json5") {
            try FileManager.default.copyItem(atPath: RepositoryRoot.path + "/mappings/" + file, toPath: mappings + "/" + file)
        }
        let health = try String(contentsOfFile: mappings + "/health-records.json5", encoding: .utf8)
        try health.replacingOccurrences(of: "'health-records'", with: "'health-ndjson'")
            .replacingOccurrences(of: "format: 'json'", with: "format: 'ndjson'")
            .write(toFile: mappings + "/health-ndjson.json5", atomically: true, encoding: .utf8)
        let death = try String(contentsOfFile: mappings + "/civil-death.json5", encoding: .utf8)
        try death.replacingOccurrences(of: "'civil-death'", with: "'civil-death-utf8'")
            .replacingOccurrences(of: "encoding: 'gb18030'", with: "encoding: 'utf-8'")
            .write(toFile: mappings + "/civil-death-utf8.json5", atomically: true, encoding: .utf8)
        var adapters: [String: String] = [:]
        for (id, department) in [("police-hukou", "police"), ("health-records", "health"), ("health-ndjson", "health"), ("civil-death", "civil-affairs"),
                                 ("civil-death-utf8", "civil-affairs"), ("social-security", "social-security")] {
            adapters[id + ".json5"] = #"{ id: "\#(id)", department: "\#(department)", mapping: "\#(id).json5", token: { sha256: "\#(String(repeating: "ab", count: 32))" } }"#
        }
        let folder = mappings
        hub = try TestHub(adapters: adapters, configure: { $0.mappingsDirectory = folder })
    }

    deinit { try? FileManager.default.removeItem(atPath: mappings) }

    /// Pushes one case and checks it; returns what was wrong (empty when all holds).
    func run(_ c: MalformedCase) async throws -> [String] {
        var problems: [String] = []
        let url = hub.base + "/v1/ingest/" + c.adapter
        let response: TestHTTPResponse
        if c.slow {
            response = try RawHTTP.slowPost(port: hub.hub.port, path: "/v1/ingest/" + c.adapter, token: hub.adminToken, body: c.body)
        } else {
            response = try await httpRequest(url, method: "POST", token: hub.adminToken, body: c.body)
        }
        if response.status >= 500 { problems.append("answered \(response.status): \(response.text.prefix(300))") }
        if response.status != c.status { problems.append("answered \(response.status), expected \(c.status): \(response.text.prefix(300))") }
        if response.text.contains(MalformedCases.secret) || response.text.contains("root:x:0") {
            problems.append("the answer quotes a bad value")
        }
        let json = (try? response.json()) ?? [:]
        if response.status == 400 {
            let message = ((json["error"] as? [String: Any])?["message"] as? String) ?? ""
            if !message.contains("body") { problems.append("the 400 does not give a position: \(message.prefix(200))") }
            if !c.rules.contains(where: { message.contains("[\($0)]") }) { problems.append("the 400 names none of \(c.rules): \(message.prefix(200))") }
        } else if response.status == 200 {
            let records = json["records"] as? [[String: Any]] ?? []
            let rejected = records.filter { $0["status"] as? String == "rejected" }
            if rejected.isEmpty { problems.append("no record was rejected") }
            for r in rejected {
                let position = r["position"] as? String ?? ""
                let ruleList = (r["problems"] as? [[String: Any]] ?? []).compactMap { $0["rule"] as? String }
                if !position.contains("body") { problems.append("a reject without a position") }
                if ruleList.isEmpty || (r["problems"] as? [[String: Any]] ?? []).contains(where: { ($0["field"] as? String ?? "").isEmpty }) {
                    problems.append("a reject without a rule or field")
                }
                if !ruleList.contains(where: { rule in c.rules.contains { rule.hasPrefix($0) } }) {
                    problems.append("rejected as \(ruleList), expected one of \(c.rules)")
                }
            }
            let accepted = records.filter { $0["status"] as? String == "accepted" }.count
            if accepted < c.good.count { problems.append("\(accepted) accepted of \(c.good.count) good records: \(records.filter { $0["status"] as? String != "accepted" }.map { $0["problems"] ?? "" })") }
        }
        for id in c.good {
            let person = try await httpRequest(hub.base + "/v1/resources/person?key=" + id, token: hub.adminToken)
            if person.status != 200 { problems.append("good record \(id) not stored (\(person.status))") }
        }
        let ready = try await httpRequest(hub.base + "/readyz")
        if ready.status != 200 { problems.append("not ready afterwards: \(ready.status)") }
        return problems
    }
}

/// The corpus: seeded batches of good records with bad ones mixed in, and the hand-written files.
enum MalformedCases {
    /// A marker inside bad values: no answer or listing may ever contain it.
    static let secret = "SECRETVALUE"
    static let gb18030 = String.Encoding(rawValue: 0x8000_0632)

    /// A valid citizen ID (GB 11643) numbered `n`: district 510108, born from 1950 on.
    static func citizenID(_ n: Int) -> String {
        let day = Calendar(identifier: .gregorian).date(byAdding: .day, value: n / 900, to: Date(timeIntervalSince1970: -631_152_000))!
        let parts = Calendar(identifier: .gregorian).dateComponents(in: TimeZone(identifier: "UTC")!, from: day)
        let body = "510108" + String(format: "%04d%02d%02d", parts.year!, parts.month!, parts.day!) + String(format: "%03d", 100 + n % 900)
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
        let sum = zip(body, weights).reduce(0) { $0 + Int(String($1.0))! * $1.1 }
        return body + String(Array("10X98765432")[sum % 11])
    }

    enum Format: CaseIterable { case json, ndjson, csvGB18030, csvUTF8, xml }

    /// `count` cases, round-robin over the formats, each 2-4 good records and 1-2 bad ones.
    static func generated(seed: UInt64, count: Int) -> [MalformedCase] {
        var random = SplitMix(seed: seed)
        var serial = Int(seed % 16) * 100_000
        var cases: [MalformedCase] = []
        for i in 0..<count {
            let format = Format.allCases[i % Format.allCases.count]
            var good: [String] = []
            var pieces: [(Data, Bool)] = []   // (record bytes, is bad)
            var rules: [String] = []
            for _ in 0..<(2 + random.int(3)) {
                serial += 1
                let id = citizenID(serial)
                good.append(id)
                pieces.append((goodRecord(format, id: id, key: "G\(serial)"), false))
            }
            for _ in 0..<(1 + random.int(2)) {
                serial += 1
                let (bytes, rule) = badRecord(format, id: citizenID(serial), key: "B\(serial)", random: &random)
                pieces.insert((bytes, true), at: random.int(pieces.count + 1))
                // Sometimes the same bad record twice in one batch (each must be its own reject).
                if random.chance(0.15) { pieces.insert((bytes, true), at: random.int(pieces.count + 1)) }
                rules.append(rule)
            }
            cases.append(MalformedCase(name: "generated #\(i) \(format) \(rules)", adapter: adapter(format),
                                       body: document(format, pieces.map(\.0)), status: 200, good: good, rules: rules))
        }
        return cases
    }

    static func adapter(_ format: Format) -> String {
        switch format {
        case .json: "health-records"
        case .ndjson: "health-ndjson"
        case .csvGB18030: "civil-death"
        case .csvUTF8: "civil-death-utf8"
        case .xml: "social-security"
        }
    }

    static func text(_ s: String, _ format: Format) -> Data {
        format == .csvGB18030 ? s.data(using: gb18030)! : Data(s.utf8)
    }

    static func goodRecord(_ format: Format, id: String, key: String) -> Data {
        let birth = "\(id.dropFirst(6).prefix(4))-\(id.dropFirst(10).prefix(2))-\(id.dropFirst(12).prefix(2))"
        switch format {
        case .json, .ndjson:
            return Data(#"{"jkdabh":"\#(key)","sfzh":"\#(id)","xm":"张建国","xb":"1","csrq":"\#(birth)","xx":"1","rh":"阳性","mxb":{"gxy":true},"gljg":"社区卫生服务中心"}"#.utf8)
        case .csvGB18030, .csvUTF8:
            return text("\(key),\(id),周敏,男,20240312,3,医院\r\n", format)
        case .xml:
            return Data(xmlRecord(key: key, id: id, name: "张建国").utf8)
        }
    }

    static func xmlRecord(key: String, id: String, name: String) -> String {
        "<AC01><AAC001>\(key)</AAC001><AAC002>\(id)</AAC002><AAC003>\(name)</AAC003><AAC004>1</AAC004>"
            + "<AAC006>\(id.dropFirst(6).prefix(8))</AAC006><AAE140>110</AAE140><AAC031>1</AAC031><AAE030>1990-07-01</AAE030></AC01>\n"
    }

    static let megabyte = String(repeating: "长", count: 350_000) + secret   // about 1 MB of UTF-8

    /// A bad record of this format and the rule (prefix) it must be rejected with.
    static func badRecord(_ format: Format, id: String, key: String, random: inout SplitMix) -> (Data, String) {
        switch format {
        case .json, .ndjson:
            let base = #""jkdabh":"\#(key)","xb":"1","csrq":"1990-01-01""#
            let variants: [(String, String)] = [
                (#"{\#(base),"sfzh":"\#(id)","xm":"a\u0000\#(secret)"}"#, "value.nul_character"),
                (#"{\#(base),"sfzh":1e999999,"xm":"x"}"#, "value.out_of_range"),
                (#"{\#(base),"sfzh":-1e-999999}"#, "value.out_of_range"),
                (#"{\#(base),"sfzh":\#(String(repeating: "9", count: 5_000))}"#, "value.out_of_range"),
                (#"{\#(base),"sfzh":"\#(id)","xm":"\#(megabyte)"}"#, "value.too_long"),
                (#"{"jkdabh":"\#(String(repeating: "K", count: 700))","sfzh":"\#(id)"}"#, "value.too_long"),
                (#"{\#(base),"sfzh":"\#(id)","mxb":\#(String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000))}"#, "value.too_deep"),
                (#"{\#(base),"sfzh":"\#(id)","mxb":\#(String(repeating: "{\"a\":", count: 100))1\#(String(repeating: "}", count: 100))}"#, "value.too_deep"),
                (#"{\#(base),"sfzh":"\#(id)","jtys":{"xm":"b\u0000\#(secret)"}}"#, "value.nul_character"),
                (#"{\#(base),"sfzh":"\#(id)","x\u0000y":"z"}"#, "value.nul_character"),
                (#"{\#(base),"sfzh":"\#(id)","xm":"\ud83d\#(secret)"}"#, "source.json.invalid"),
                (#"{\#(base),"sfzh":"\#(id.dropLast())\#(id.last == "0" ? "1" : "0")","xm":"\#(secret)"}"#, "citizen_id"),
                (#"{\#(base),"sfzh":"1.10105E+17"}"#, "citizen_id"),
                (#"["not","a","record"]"#, "source.json.not_object"),
                (#"{\#(base),"sfzh":"\#(id)","xm":"tab\#tinside"}"#, "source.json.invalid"),
            ]
            let (text, rule) = random.pick(variants)
            if random.chance(0.2), format == .json {
                // Bytes that are not UTF-8 inside a string.
                return (Data(#"{\#(base),"sfzh":"\#(id)","xm":""#.utf8) + Data([0xC0, 0xAF, 0xFF]) + Data(#""}"#.utf8), "source.encoding")
            }
            return (Data(text.utf8), rule)
        case .csvGB18030, .csvUTF8:
            let choice = random.int(8)
            switch choice {
            case 0: return (text("\(key),\(id),周敏,男,20240312\r\n", format), "source.csv.ragged_row")
            case 1: return (text("\(key),\(id),周敏,男,20240312,3,医院,多余\r\n", format), "source.csv.ragged_row")
            case 2: return (text("\(key),\(id),周\u{0}\(secret),男,20240312,3,医院\r\n", format), "value.nul_character")
            case 3: return (text("\(key),\(id),\(megabyte),男,20240312,3,医院\r\n", format), "value.too_long")
            case 4: return (text("\(String(repeating: "K", count: 700)),\(id),周敏,男,20240312,3,医院\r\n", format), "value.too_long")
            case 5:
                let invalid: [UInt8] = format == .csvUTF8 ? [0xC3, 0x28, 0xED, 0xA0, 0x80] : [0xFF, 0x80, 0x81]
                return (text("\(key),\(id),", format) + Data(invalid) + text(",男,20240312,3,医院\r\n", format), "source.encoding")
            case 6: return (text("\(key),1e999999,周敏,男,20240312,3,医院\r\n", format), "citizen_id")
            default: return (text("\(key),\(id),周敏,男,2024-13-45,3,医院\r\n", format), "date")
            }
        case .xml:
            let choice = random.int(6)
            switch choice {
            case 0: return (Data(xmlRecord(key: key, id: id, name: megabyte).utf8), "value.too_long")
            case 1:
                let deep = String(repeating: "<d>", count: 100) + "x" + String(repeating: "</d>", count: 100)
                return (Data(xmlRecord(key: key, id: id, name: deep).utf8), "value.too_deep")
            case 2: return (Data(xmlRecord(key: String(repeating: "K", count: 700), id: id, name: "x").utf8), "value.too_long")
            case 3: return (Data(xmlRecord(key: key, id: "1e999999", name: secret).utf8), "citizen_id")
            case 4: return (Data(xmlRecord(key: key, id: id + "9", name: secret).utf8), "citizen_id")
            default: return (Data(xmlRecord(key: key, id: id, name: "&lt;\(secret)&gt;").utf8).replacingOccurrences(of: "<AAE140>110", with: "<AAE140>ABC"), "code")
            }
        }
    }

    static func document(_ format: Format, _ records: [Data]) -> Data {
        switch format {
        case .json: return Data("[".utf8) + records.joined(separator: Data(",\n".utf8)) + Data("]".utf8)
        case .ndjson: return records.joined(separator: Data("\n".utf8)) + Data("\n".utf8)
        case .csvGB18030, .csvUTF8:
            return text("死亡证明编号,身份证号,姓名,性别,死亡日期,婚姻状况,死亡地点\r\n", format) + records.reduce(Data(), +)
        case .xml:
            return Data(#"<?xml version="1.0" encoding="UTF-8"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body><r>"#.utf8)
                + records.reduce(Data(), +) + Data("</r></soap:Body></soap:Envelope>\n".utf8)
        }
    }

    /// The hand-written files of Tests/MalformedInput and their expectations (cases.json).
    static func handWritten() throws -> [MalformedCase] {
        let folder = RepositoryRoot.path + "/Tests/MalformedInput/"
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: folder + "cases.json"))) as! [String: Any]
        return try (manifest["cases"] as! [[String: Any]]).map { c in
            let file = c["file"] as! String
            return MalformedCase(name: file, adapter: c["adapter"] as! String, body: try Data(contentsOf: URL(fileURLWithPath: folder + file)),
                                 status: c["status"] as! Int, good: c["good"] as! [String], rules: c["rules"] as! [String])
        }
    }
}

extension Data {
    func replacingOccurrences(of target: String, with replacement: String) -> Data {
        Data(String(decoding: self, as: UTF8.self).replacingOccurrences(of: target, with: replacement).utf8)
    }
}

extension Array where Element == Data {
    func joined(separator: Data) -> Data {
        var out = Data()
        for (i, d) in enumerated() {
            if i > 0 { out += separator }
            out += d
        }
        return out
    }
}

/// A bare HTTP/1.1 client over a socket, for bodies sent slowly or never finished.
final class RawHTTP {
    let fd: Int32

    private init(fd: Int32) { self.fd = fd }

    static func connect(port: Int) throws -> RawHTTP {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard fd >= 0, result == 0 else { throw POSIXError(.ECONNREFUSED) }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return RawHTTP(fd: fd)
    }

    func send(_ text: String) throws { try send(Data(text.utf8)) }

    func send(_ data: Data) throws {
        let sent = data.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, data.count, Int32(MSG_NOSIGNAL)) }
        guard sent == data.count else { throw POSIXError(.EPIPE) }
    }

    /// Reads until the server closes the connection.
    func readAll() -> Data {
        var out = Data()
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 { break }
            out += buffer[0..<n]
        }
        return out
    }

    func close() { Glibc.close(fd) }

    /// POSTs `body` in eight pieces with a pause before each.
    static func slowPost(port: Int, path: String, token: String, body: Data) throws -> TestHTTPResponse {
        let connection = try connect(port: port)
        defer { connection.close() }
        try connection.send("POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\nContent-Length: \(body.count)\r\nConnection: close\r\n\r\n")
        let piece = Swift.max(1, (body.count + 7) / 8)
        var offset = 0
        while offset < body.count {
            usleep(150_000)
            let end = Swift.min(body.count, offset + piece)
            try connection.send(body.subdata(in: offset..<end))
            offset = end
        }
        let answer = connection.readAll()
        guard let split = answer.range(of: Data("\r\n\r\n".utf8)) else { return TestHTTPResponse(status: 0, body: answer, headers: [:]) }
        let head = String(decoding: answer[..<split.lowerBound], as: UTF8.self)
        let status = Int(head.split(separator: " ").dropFirst().first ?? "") ?? 0
        var content = Data(answer[split.upperBound...])
        if head.lowercased().contains("transfer-encoding: chunked") { content = dechunk(content) }
        return TestHTTPResponse(status: status, body: content, headers: [:])
    }

    static func dechunk(_ data: Data) -> Data {
        var out = Data()
        var rest = data[...]
        while let lineEnd = rest.range(of: Data("\r\n".utf8)) {
            let size = Int(String(decoding: rest[..<lineEnd.lowerBound], as: UTF8.self), radix: 16) ?? 0
            if size == 0 { break }
            let start = lineEnd.upperBound
            out += rest[start..<(start + size)]
            rest = rest[(start + size + 2)...]
        }
        return out
    }
}
