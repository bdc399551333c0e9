import Catalog
import Feed
import Foundation
@testable import Hub
import Secrets
import Testing

/// What a subscriber may see, as a property: random subscriptions (resources, field lists, areas,
/// masking policies) over a population that the real ingest path creates, changes and moves
/// between communities. Every event pulled from the feed, every SSE frame and every snapshot row
/// is checked against an oracle built from the catalog's sensitivity and sharing rules, and the
/// events each subscriber should receive are checked to arrive (no more, no fewer).
///
/// Seeds: 1, 2 and 3 by default, so a run is repeatable; `RECORDONCE_PROPERTY_SEEDS=7,8,9` (or
/// `random`) explores others. A failure names its seed and subscription.
@Suite struct FeedPropertyTests {
    static var seeds: [UInt64] {
        let given = ProcessInfo.processInfo.environment["RECORDONCE_PROPERTY_SEEDS"] ?? ""
        if given == "random" { return (0..<3).map { _ in UInt64.random(in: 1...UInt64.max) } }
        let parsed = given.split(separator: ",").compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        return parsed.isEmpty ? [1, 2, 3] : parsed
    }

    @Test func noSubscriberSeesAnEventRowOrFieldOutsideItsGrant() async throws {
        let catalog = try Catalog.load(directory: RepositoryRoot.path + "/mappings/catalog")
        for seed in Self.seeds {
            var scenario = Scenario(seed: seed, catalog: catalog)
            try await scenario.run()
        }
    }
}

/// One seeded run: a hub, a population pushed in four rounds, random subscriptions, and the checks.
private struct Scenario {
    let seed: UInt64
    let catalog: Catalog
    var random: SplitMix

    static let policeToken = "feed-property-police-token"
    static let healthToken = "feed-property-health-token"
    static let communities = ["510108001001", "510108001002", "510108002001", "510108002002"]
    static let streets = ["510108001", "510108002"]
    static let resources = ["Person", "Household", "HealthSummary"]

    init(seed: UInt64, catalog: Catalog) {
        self.seed = seed
        self.catalog = catalog
        random = SplitMix(seed: seed)
    }

    mutating func run() async throws {
        func sha(_ token: String) -> String { Secrets.hex(Secrets.sha256(token)) }
        let hub = try TestHub(adapters: [
            "police.json5": #"{ id: "police-hukou", department: "police", mapping: "police-hukou.json5", token: { sha256: "\#(sha(Self.policeToken))" } }"#,
            "health.json5": #"{ id: "health-records", department: "health", mapping: "health-records.json5", token: { sha256: "\#(sha(Self.healthToken))" } }"#,
        ])

        // Subscriptions first: which ones exist does not change what the log holds.
        var subscriptions: [(spec: [String: Any], token: String)] = []
        for i in 0..<14 {
            let spec = randomSpec(i)
            let (_, token, body) = try await FeedTesting.subscribe(hub, spec)
            #expect(!token.isEmpty, "seed \(seed): subscription \(i) refused: \(body)")
            subscriptions.append((spec, token))
        }

        // The population moves through four rounds of pushes.
        var people = (0..<48).map { Resident(index: $0, community: Self.communities[$0 % Self.communities.count]) }
        try await push(hub, police: people)
        for i in people.indices where random.chance(0.35) {
            people[i].community = random.pick(Self.communities.filter { $0 != people[i].community })
            people[i].street += 1
        }
        for i in people.indices where random.chance(0.25) { people[i].mobileSuffix += 1 }
        try await push(hub, police: people)
        try await push(hub, health: people.filter { _ in random.chance(0.6) })
        for i in people.indices where random.chance(0.3) {
            people[i].community = random.pick(Self.communities)
        }
        try await push(hub, police: people)

        let log = try await adminLog(hub)
        #expect(log.count > 100, "seed \(seed): the scenario produced only \(log.count) events")
        #expect(log.contains { $0.resource == "Person" && $0.operation == "updated" && $0.changed.contains("registered_division") },
                "seed \(seed): nobody moved")

        var oracles: [Oracle] = []
        for (n, subscription) in subscriptions.enumerated() {
            let oracle = Oracle(spec: subscription.spec, catalog: catalog)
            let context = "seed \(seed), subscription \(n) \(Self.describe(subscription.spec))"
            let pulled = try await pullAll(hub, token: subscription.token)
            try oracle.checkFeed(pulled, log: log, context: context)
            if n < 3 {
                // SSE projects through the same rules; prove it for a few.
                let reader = try SSEReader(url: hub.base + "/v1/feed/stream", token: subscription.token, lastEventID: "0")
                let frames = reader.read(events: pulled.count, timeout: 20).events
                reader.close()
                #expect(frames.map(\.id) == pulled.map(\.position), "\(context): SSE and pull disagree")
                try oracle.checkFeed(frames.map { try FeedEvent(text: $0.data) }, log: log, context: context + " (SSE)")
            }
            for resource in oracle.resources {
                let rows = try await snapshot(hub, token: subscription.token, resource: resource, context: context)
                let current = try hub.hub.pool.withConnection { c in
                    try c.query("SELECT id::text AS id, record::text AS record FROM entities WHERE resource = $1", [resource])
                }.rows.map { (id: $0["id"]!, record: try jsonObject($0["record"]!)) }
                try oracle.checkSnapshot(rows, resource: resource, current: current, context: context)
            }
            oracles.append(oracle)
        }
        // Pseudonyms are keyed per subscription: one value never has the same pseudonym in two of them.
        for (i, a) in oracles.enumerated() {
            for b in oracles[(i + 1)...] {
                for (value, pseudonym) in a.pseudonyms where b.pseudonyms[value] == pseudonym {
                    Issue.record("seed \(seed): two subscriptions share a pseudonym")
                }
            }
        }
        #expect(oracles.contains { !$0.pseudonyms.isEmpty }, "seed \(seed): no subscription saw a pseudonym")
    }

    // MARK: - Random subscriptions

    func shareable(_ resource: String) -> [Field] {
        catalog.resource(resource)!.fields.filter { $0.sharing != .notShared }
    }

    mutating func randomSpec(_ i: Int) -> [String: Any] {
        let area: [String]
        switch random.int(4) {
        case 0: area = []
        case 1: area = [random.pick(Self.streets)]
        case 2: area = [random.pick(Self.communities)]
        default: area = Array(Set([random.pick(Self.communities), random.pick(Self.communities)])).sorted()
        }
        let candidates = area.isEmpty ? Self.resources : ["Person", "Household"]
        var resources = candidates.filter { _ in random.chance(0.6) }
        if resources.isEmpty { resources = [random.pick(candidates)] }
        var fields: [String: [String]] = [:]
        var masking: [String: String] = [:]
        for r in resources {
            var visible = shareable(r).map(\.name)
            if random.chance(0.5) {
                let listed = visible.filter { _ in random.chance(0.5) }
                if !listed.isEmpty {
                    fields[r] = listed
                    visible = listed
                }
            }
            for name in visible where random.chance(0.3) {
                masking[r + "." + name] = random.pick(FieldPolicy.allCases).rawValue
            }
        }
        var spec: [String: Any] = ["name": "platform \(i)", "purpose": "property test (seed \(seed))", "resources": resources]
        if !area.isEmpty { spec["area"] = area }
        if !fields.isEmpty { spec["fields"] = fields }
        if !masking.isEmpty { spec["masking"] = masking }
        return spec
    }

    static func describe(_ spec: [String: Any]) -> String {
        let data = try? JSONSerialization.data(withJSONObject: spec, options: [.sortedKeys])
        return data.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    // MARK: - Pushes and reads

    func push(_ hub: TestHub, police people: [Resident]) async throws {
        let items = people.map(\.policeItem)
        let body = try JSONSerialization.data(withJSONObject: ["code": 0, "data": ["page": 1, "items": items]])
        let response = try await httpRequest(hub.base + "/v1/ingest/police-hukou", method: "POST", token: Self.policeToken, body: body)
        #expect(response.status == 200, "seed \(seed): \(response.text)")
        let totals = try response.json()["totals"] as? [String: Int] ?? [:]
        #expect(totals["rejected"] == 0, "seed \(seed): police push rejected records: \(response.text)")
    }

    func push(_ hub: TestHub, health people: [Resident]) async throws {
        let body = try JSONSerialization.data(withJSONObject: people.map(\.healthRecord))
        let response = try await httpRequest(hub.base + "/v1/ingest/health-records", method: "POST", token: Self.healthToken, body: body)
        #expect(response.status == 200, "seed \(seed): \(response.text)")
        let totals = try response.json()["totals"] as? [String: Int] ?? [:]
        #expect(totals["rejected"] == 0, "seed \(seed): health push rejected records: \(response.text)")
    }

    /// The whole change log as the admin sees it: full records, in order.
    func adminLog(_ hub: TestHub) async throws -> [LoggedChange] {
        var out: [LoggedChange] = []
        var after = 0
        while true {
            let page = try await httpRequest(hub.base + "/v1/changes?after=\(after)&limit=200", token: hub.adminToken)
            #expect(page.status == 200)
            let body = try page.json()
            let events = body["events"] as? [[String: Any]] ?? []
            if events.isEmpty { return out }
            for e in events {
                out.append(LoggedChange(position: Int64(e["position"] as? Int ?? 0), resource: e["resource"] as? String ?? "",
                                        entityID: e["entity_id"] as? String ?? "", version: e["version"] as? Int ?? 0,
                                        operation: e["operation"] as? String ?? "", changed: e["changed_fields"] as? [String] ?? [],
                                        record: e["record"] as? [String: Any] ?? [:]))
            }
            after = body["next"] as? Int ?? after
        }
    }

    /// Every event of the feed, in small pages, as the subscriber sees it.
    func pullAll(_ hub: TestHub, token: String) async throws -> [FeedEvent] {
        var out: [FeedEvent] = []
        var after = 0
        while true {
            let page = try await httpRequest(hub.base + "/v1/feed?after=\(after)&limit=7", token: token)
            #expect(page.status == 200, "\(page.text)")
            let body = try page.json()
            let events = body["events"] as? [[String: Any]] ?? []
            out += try events.map { try FeedEvent(object: $0) }
            let next = body["next"] as? Int ?? after
            if events.isEmpty || next == after { return out }
            after = next
        }
    }

    func snapshot(_ hub: TestHub, token: String, resource: String, context: String) async throws -> [(id: String, record: [String: Any], text: String)] {
        var rows: [(String, [String: Any], String)] = []
        var after: String?
        repeat {
            let url = hub.base + "/v1/resources/\(resource)?limit=5" + (after.map { "&after=\($0)" } ?? "")
            let page = try await httpRequest(url, token: token)
            #expect(page.status == 200, "\(context): snapshot of \(resource): \(page.text)")
            let body = try page.json()
            for row in body["records"] as? [[String: Any]] ?? [] {
                let record = row["record"] as? [String: Any] ?? [:]
                let text = String(decoding: try JSONSerialization.data(withJSONObject: row), as: UTF8.self)
                rows.append((row["entity_id"] as? String ?? "", record, text))
            }
            after = body["next"] as? String
        } while after != nil
        return rows
    }
}

// MARK: - The oracle

/// A change as the admin's `/v1/changes` reports it.
private struct LoggedChange {
    let position: Int64
    let resource: String
    let entityID: String
    let version: Int
    let operation: String
    let changed: [String]
    let record: [String: Any]
}

/// A CloudEvent as a subscriber received it.
private struct FeedEvent {
    let position: Int64
    let object: [String: Any]
    let text: String

    init(object: [String: Any]) throws {
        self.object = object
        position = Int64(object["id"] as? String ?? "") ?? -1
        text = String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)
    }

    init(text: String) throws {
        try self.init(object: try jsonObject(text))
    }

    var data: [String: Any] { object["data"] as? [String: Any] ?? [:] }
}

/// What one subscription may see, computed from the catalog independently of the feed's code.
private final class Oracle {
    let spec: [String: Any]
    let catalog: Catalog
    let resources: [String]
    let area: [String]
    /// Per resource, per visible field: its policy and catalog field.
    let visible: [String: [String: (policy: FieldPolicy, field: Field)]]
    /// Per value, the pseudonym this subscription gave it (must be a function, and one-to-one).
    var pseudonyms: [String: String] = [:]

    init(spec: [String: Any], catalog: Catalog) {
        self.spec = spec
        self.catalog = catalog
        resources = spec["resources"] as? [String] ?? []
        area = spec["area"] as? [String] ?? []
        let fields = spec["fields"] as? [String: [String]] ?? [:]
        let masking = spec["masking"] as? [String: String] ?? [:]
        var visible: [String: [String: (FieldPolicy, Field)]] = [:]
        for name in resources {
            var map: [String: (FieldPolicy, Field)] = [:]
            for field in catalog.resource(name)!.fields {
                if let listed = fields[name], !listed.contains(field.name) { continue }
                if field.sharing == .notShared { continue }
                let policy: FieldPolicy
                if let given = masking[name + "." + field.name] {
                    policy = FieldPolicy(rawValue: given)!
                } else {
                    // Least privilege: public and internal plain; sensitive and special masked when
                    // the catalog says how, omitted when it does not (or says suppress).
                    switch field.sensitivity {
                    case .public, .internal: policy = .plain
                    case .sensitive, .special:
                        policy = (field.masking == nil || field.masking == .suppress) ? .omitted : .masked
                    }
                }
                if policy != .omitted { map[field.name] = (policy, field) }
            }
            visible[name] = map
        }
        self.visible = visible
    }

    func inArea(_ record: [String: Any], _ resource: String) -> Bool {
        if area.isEmpty { return true }
        let divisionFields = catalog.resource(resource)!.fields.filter { $0.type == .code(table: "division") }
        return divisionFields.contains { f in
            guard let code = record[f.name] as? String else { return false }
            return area.contains { code.hasPrefix($0) }
        }
    }

    /// The events this subscription must receive from the log, with the kind of each.
    func expected(_ log: [LoggedChange]) -> [(change: LoggedChange, removal: Bool, entered: Bool)] {
        var previous: [String: [String: Any]] = [:]
        var out: [(LoggedChange, Bool, Bool)] = []
        for change in log {
            defer { previous[change.entityID] = change.record }
            guard resources.contains(change.resource) else { continue }
            let before = previous[change.entityID]
            let now = inArea(change.record, change.resource)
            let wasIn = before.map { inArea($0, change.resource) } ?? false
            if !now {
                if wasIn { out.append((change, true, false)) }
                continue
            }
            let entered = !area.isEmpty && before != nil && !wasIn
            let changedVisible = change.changed.filter { visible[change.resource]![$0] != nil }
            if change.operation == "updated" && changedVisible.isEmpty && !entered { continue }
            out.append((change, false, entered))
        }
        return out
    }

    func checkFeed(_ events: [FeedEvent], log: [LoggedChange], context: String) throws {
        let expected = expected(log)
        #expect(events.map(\.position) == expected.map(\.change.position),
                "\(context): received positions differ from those it should receive")
        let byPosition = Dictionary(uniqueKeysWithValues: expected.map { ($0.change.position, $0) })
        for event in events {
            guard let want = byPosition[event.position] else {
                Issue.record("\(context): event \(event.position) should not have been sent")
                continue
            }
            let change = want.change
            let data = event.data
            #expect(event.object["specversion"] as? String == "1.0")
            #expect(event.object["subject"] as? String == change.resource + "/" + change.entityID, "\(context)")
            #expect(data["resource"] as? String == change.resource && data["entity_id"] as? String == change.entityID)
            if want.removal {
                #expect(data["operation"] as? String == "removed", "\(context): event \(event.position) should be a removal")
                #expect(data["record"] is NSNull, "\(context): a removal carries no record")
                #expect((data["sources"] as? [Any])?.isEmpty == true)
                continue
            }
            #expect(data["operation"] as? String == change.operation)
            #expect((data["area_change"] as? String == "entered") == want.entered, "\(context): event \(event.position) area_change")
            let changed = data["changed_fields"] as? [String] ?? []
            #expect(Set(changed) == Set(change.changed.filter { visible[change.resource]![$0] != nil }),
                    "\(context): event \(event.position) names changed fields outside its grant")
            let record = data["record"] as? [String: Any] ?? [:]
            checkRecord(record, raw: change.record, resource: change.resource, text: event.text,
                        context: "\(context): event \(event.position)")
            for source in data["sources"] as? [[String: Any]] ?? [] {
                let allowed: Set = ["department", "adapter", "mapping", "mapping_version", "observed_at", "fields"]
                #expect(Set(source.keys).isSubset(of: allowed), "\(context): a source discloses \(source.keys.sorted())")
                let names = source["fields"] as? [String] ?? []
                #expect(!names.isEmpty && names.allSatisfy { visible[change.resource]![$0] != nil },
                        "\(context): a source names a field outside the grant")
            }
        }
    }

    func checkSnapshot(_ rows: [(id: String, record: [String: Any], text: String)], resource: String,
                       current: [(id: String, record: [String: Any])], context: String) throws {
        let inside = current.filter { inArea($0.record, resource) }
        #expect(Set(rows.map(\.id)) == Set(inside.map(\.id)) && rows.count == inside.count,
                "\(context): snapshot of \(resource) has \(rows.count) rows, \(inside.count) are in its area")
        let raw = Dictionary(uniqueKeysWithValues: current.map { ($0.id, $0.record) })
        for row in rows {
            guard let record = raw[row.id] else { continue }
            checkRecord(row.record, raw: record, resource: resource, text: row.text, context: "\(context): snapshot row of \(resource)")
        }
    }

    /// The fields of a disclosed record: exactly the visible ones the raw record has, each under its policy,
    /// and no raw value of a field the subscriber may not see in plain anywhere in the event's text.
    func checkRecord(_ record: [String: Any], raw: [String: Any], resource: String, text: String, context: String) {
        let grant = visible[resource]!
        let shouldHave = Set(raw.keys.filter { grant[$0] != nil })
        #expect(Set(record.keys) == shouldHave, "\(context): fields \(Set(record.keys).symmetricDifference(shouldHave).sorted()) differ from the grant")
        var plainTexts: [String] = []
        for (name, value) in record {
            guard let (policy, field) = grant[name], let original = raw[name] else { continue }
            if original is NSNull {
                #expect(value is NSNull, "\(context): \(name) null in the record but not in the event")
                continue
            }
            let originalText = Self.text(original)
            switch policy {
            case .plain:
                #expect(Self.text(value) == originalText, "\(context): plain \(name) altered")
                plainTexts.append(originalText)
            case .masked:
                let shown = value as? String ?? ""
                #expect(Self.isMasked(shown, original: originalText, field: field), "\(context): \(name) is not masked by its convention")
            case .pseudonymized:
                let shown = value as? String ?? ""
                // A short value (a one-digit code) may occur in a pseudonym's base64 by chance.
                #expect(shown.hasPrefix("ps_") && shown.count > 40 && (originalText.count < 5 || !shown.contains(originalText)),
                        "\(context): \(name) is not a pseudonym")
                if let earlier = pseudonyms[originalText] {
                    #expect(earlier == shown, "\(context): one value, two pseudonyms")
                } else {
                    #expect(!pseudonyms.values.contains(shown), "\(context): two values, one pseudonym")
                    pseudonyms[originalText] = shown
                }
            case .omitted:
                Issue.record("\(context): omitted \(name) present")
            }
        }
        // No raw value of a field that is not plainly visible appears anywhere in the text
        // (unless a plainly visible field of the same record holds it too).
        for (name, original) in raw where !(original is NSNull) {
            if grant[name]?.policy == .plain { continue }
            let value = Self.text(original)
            guard value.count >= 5, !plainTexts.contains(where: { $0.contains(value) }) else { continue }
            #expect(!text.contains(value), "\(context): the raw value of \(name) appears in what was sent")
        }
    }

    /// The display conventions of standards.md.
    static func isMasked(_ shown: String, original: String, field: Field) -> Bool {
        if shown == original { return false }
        func kept(_ first: Int, _ last: Int) -> Bool {
            let o = Array(original), s = Array(shown)
            guard o.count > first + last else { return s.allSatisfy { $0 == "*" } }
            return s.count == o.count && s.prefix(first) == o.prefix(first) && s.suffix(last) == o.suffix(last)
                && s[first..<(s.count - last)].allSatisfy { $0 == "*" }
        }
        switch field.masking {
        case .idNumber?: return kept(6, 4)
        case .mobile?: return kept(3, 4)
        case .name?: return kept(1, 0)
        case .address?: return shown.hasSuffix("***") && original.hasPrefix(String(shown.dropLast(3))) && shown.count - 3 < original.count
        case .suppress?: return shown == "***"
        case nil:
            if field.type == .date || field.type == .datetime { return shown == String(original.prefix(4)) }
            return shown == "***"
        }
    }

    static func text(_ value: Any) -> String {
        switch value {
        case let s as String: return s
        default:
            let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys])
            return data.map { String(decoding: $0, as: UTF8.self) } ?? ""
        }
    }
}

// MARK: - The population

/// One resident as the police register and the health records system hold them (feed tests).
struct Resident {
    let index: Int
    var community: String
    var street = 1
    var mobileSuffix = 0

    var citizenID: String {
        let year = 1950 + index % 50, month = 1 + index % 12, day = 1 + index % 28
        let first17 = "510108" + String(format: "%04d%02d%02d%03d", year, month, day, 100 + index)
        return first17 + String(CitizenID.checkCharacter(for: first17)!)
    }
    var birthDate: String { String(citizenID.dropFirst(6).prefix(8)) }
    var headIndex: Int { index - index % 3 }
    var isHead: Bool { index == headIndex }
    static let surnames = ["张", "王", "李", "赵", "刘", "陈"]
    static let given = ["建国", "秀英", "志强", "丽娟", "海燕", "德明", "淑芬", "国平"]
    var name: String { Self.surnames[index % 6] + Self.given[index % 8] + String(index) }

    var policeItem: [String: String] {
        [
            "HH": String(format: "5101080%05d", headIndex), "HB": "家庭户", "DJJG": "成都市公安局成华区分局猛追湾派出所",
            "ZZ": "四川省成都市成华区猛追湾街道望平街\(street)巷\(index)号", "SQ": community, "XM": name, "CYM": "",
            "XB": index % 2 == 0 ? "1" : "2", "MZ": "01", "CSRQ": birthDate, "GMSFHM": citizenID,
            "YHZGX": isHead ? "户主" : (index % 3 == 1 ? "配偶" : "子"), "WHCD": "20", "ZY": "职员", "FWCS": "成都示例机械厂",
            "LXDH": String(format: "139%04d%04d", index, mobileSuffix), "QRRQ": "2001-05-01", "HYZK": "20", "ZXBS": "0",
        ]
    }

    var healthRecord: [String: Any] {
        [
            "jkdabh": String(format: "510108001001%05d", index), "sfzh": citizenID, "xm": name, "xb": index % 2 == 0 ? "1" : "2",
            "csrq": birthDate, "xx": String(1 + index % 4), "rh": index % 7 == 0 ? "阴性" : "阳性",
            "mxb": ["gxy": index % 2 == 0, "tnb": index % 3 == 0 ? "1" : "0"],
            "jtys": ["xm": "刘医生", "td": "猛追湾一队", "qyrq": "20230115"], "gljg": "猛追湾街道社区卫生服务中心",
        ]
    }
}

private func jsonObject(_ text: String) throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] ?? [:]
}
