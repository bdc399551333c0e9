import Catalog
import Foundation
import JSON5
import Mapping
import Secrets
import Store
import Telemetry

/// A catalog change and what it breaks.
public struct CatalogFinding: Sendable {
    public var change: CatalogChange
    public var breaking: Bool
    /// What uses what changed: `mapping police-hukou`, `subscription grid-app (sub_...)`.
    public var breaks: [String]
    /// Stored golden records that hold the changed field or code (nil when not counted).
    public var storedRecords: Int?

    /// One line: `BREAKING field_removed: field Person.name is removed; breaks: mapping x; 12 stored record(s)`.
    public var line: String {
        var out = (breaking ? "BREAKING " : "note ") + change.kind.rawValue + ": " + change.message
        var uses = breaks
        if let storedRecords, storedRecords > 0 { uses.append("\(storedRecords) stored record(s)") }
        if !uses.isEmpty { out += "; breaks: " + uses.joined(separator: ", ") }
        return out
    }

    public var json: String {
        var w = JSONWriter()
        w.string("kind", change.kind.rawValue)
        w.raw("breaking", breaking ? "true" : "false")
        w.string("message", change.message)
        w.string("resource", change.resource)
        w.string("field", change.field)
        w.string("table", change.table)
        w.string("code", change.code)
        w.string("department", change.department)
        w.strings("breaks", breaks)
        w.number("stored_records", storedRecords)
        return w.json
    }
}

/// The compatibility check of a changed catalog (`recordonce catalog check`, hub start-up):
/// every change between the catalog in use and the new one, each judged by what uses it (the
/// mappings, the subscription grants, the stored golden records). Breaking: a field, resource or
/// code that something uses is removed; an identity key changes; a type narrows; a field that
/// mappings or stored records leave empty becomes required. The rest passes with a note.
public struct CatalogCheck {
    public let old: Catalog
    public let new: Catalog
    /// Mapping texts by name (`police-hukou.json5`, `mapping x version 2`).
    public var mappings: [(name: String, text: String)] = []
    /// The database for subscription grants and stored values (nil: neither is looked at).
    public var pool: ConnectionPool?

    public init(old: Catalog, new: Catalog, mappings: [(name: String, text: String)] = [], pool: ConnectionPool? = nil) {
        self.old = old
        self.new = new
        self.mappings = mappings
        self.pool = pool
    }

    /// Every change with what it breaks, breaking ones first.
    public func run() throws -> [CatalogFinding] {
        let changes = CatalogCompatibility.changes(from: old, to: new)
        guard !changes.isEmpty else { return [] }
        let oldSchema = MappingSchema(catalog: old)
        let newSchema = MappingSchema(catalog: new)
        // Each mapping as it works now (its targets) and its problems under the new catalog.
        var plans: [(name: String, plan: MappingPlan, problems: [MappingProblem])] = []
        for (name, text) in mappings {
            guard let plan = try? MappingPlan.compile(text: text, file: name, schema: oldSchema) else { continue }
            let problems = MappingValidator.validate(text: text, file: name, schema: newSchema).filter { $0.severity == .error }
            plans.append((plan.id, plan, problems))
        }
        let subscriptions = try pool.map(Self.subscriptions) ?? []
        var findings: [CatalogFinding] = []
        for change in changes {
            var finding = CatalogFinding(change: change, breaking: false, breaks: [])
            let resource = change.resource ?? ""
            let field = change.field ?? ""
            func writes(_ plan: MappingPlan) -> Bool { plan.targets.contains { $0.resource == resource && $0.field == field } }
            switch change.kind {
            case .resourceRemoved:
                finding.breaks = plans.filter { $0.plan.targets.contains { $0.resource == resource } }.map { "mapping \($0.name)" }
                    + subscriptions.filter { $0.resources.contains(resource) }.map { "subscription \($0.label)" }
                finding.storedRecords = try count("SELECT count(*) FROM entities WHERE resource = $1", [resource])
                finding.breaking = !finding.breaks.isEmpty || finding.storedRecords ?? 0 > 0
            case .fieldRemoved:
                finding.breaks = plans.filter { writes($0.plan) }.map { "mapping \($0.name)" }
                    + subscriptions.filter { $0.fields.contains("\(resource).\(field)") }.map { "subscription \($0.label)" }
                finding.storedRecords = try storedHolding(resource: resource, field: field)
                finding.breaking = !finding.breaks.isEmpty || finding.storedRecords ?? 0 > 0
            case .typeNarrowed:
                finding.breaks = plans.filter { writes($0.plan) }.map { "mapping \($0.name)" }
                finding.storedRecords = try storedHolding(resource: resource, field: field)
                finding.breaking = true
            case .identityKeyChanged:
                finding.breaks = plans.filter { $0.plan.targets.contains { $0.resource == resource } }.map { "mapping \($0.name)" }
                finding.storedRecords = try count("SELECT count(*) FROM entities WHERE resource = $1", [resource])
                finding.breaking = true
            case .becameRequired:
                finding.breaks = plans.filter { entry in entry.problems.contains { $0.rule == "mapping.required_unmapped" && $0.message.contains(field) }
                    && entry.plan.targets.contains { $0.resource == resource } }.map { "mapping \($0.name)" }
                finding.storedRecords = try count("""
                    SELECT count(*) FROM entities WHERE resource = $1 AND NOT (record ? $2 AND record -> $2 <> 'null'::jsonb)
                    """, [resource, field])
                finding.breaking = !finding.breaks.isEmpty || finding.storedRecords ?? 0 > 0
            case .codeRemoved, .codeTableRemoved:
                let table = change.table ?? ""
                let marker = change.kind == .codeRemoved ? "'\(change.code ?? "")' is not a code of table '\(table)'" : "'\(table)'"
                finding.breaks = plans.filter { entry in entry.problems.contains { $0.message.contains(marker) } }.map { "mapping \($0.name)" }
                finding.storedRecords = try storedCode(table: table, code: change.kind == .codeRemoved ? change.code : nil)
                finding.breaking = !finding.breaks.isEmpty || finding.storedRecords ?? 0 > 0
            case .departmentRemoved:
                finding.breaks = plans.filter { $0.plan.source.department == change.department }.map { "mapping \($0.name)" }
                finding.breaking = !finding.breaks.isEmpty
            case .resourceAdded, .fieldAdded, .codeAdded, .typeWidened, .departmentAdded:
                break
            }
            findings.append(finding)
        }
        return findings.filter(\.breaking) + findings.filter { !$0.breaking }
    }

    /// Stored records of `resource` with a value in `field` (current versions).
    func storedHolding(resource: String, field: String) throws -> Int? {
        try count("SELECT count(*) FROM entities WHERE resource = $1 AND record ? $2 AND record -> $2 <> 'null'::jsonb", [resource, field])
    }

    /// Stored records whose fields of code table `table` (in the old catalog) hold `code` (any code when nil).
    func storedCode(table: String, code: String?) throws -> Int? {
        guard pool != nil else { return nil }
        var total = 0
        for resource in old.resources {
            for field in resource.fields where field.type.codeTable == table {
                if let code {
                    total += try count("SELECT count(*) FROM entities WHERE resource = $1 AND record ->> $2 = $3", [resource.name, field.name, code]) ?? 0
                } else {
                    total += try storedHolding(resource: resource.name, field: field.name) ?? 0
                }
            }
        }
        return total
    }

    func count(_ sql: String, _ parameters: [String]) throws -> Int? {
        guard let pool else { return nil }
        return try pool.withConnection { c in Int(try c.query(sql, parameters).first?[0] ?? "0") }
    }

    /// A subscription's grant: its resources, and the `Resource.field` names it lists or masks.
    struct Grant {
        var label: String
        var resources: Set<String>
        var fields: Set<String>
    }

    static func subscriptions(_ pool: ConnectionPool) throws -> [Grant] {
        let rows = try pool.withConnection { c in
            try c.query("SELECT id, spec::text AS spec FROM subscriptions WHERE status <> 'deleted' ORDER BY id").rows
        }
        return rows.compactMap { row in
            guard let id = row["id"], let text = row["spec"], let spec = try? JSON5.parseJSON(text) else { return nil }
            var grant = Grant(label: (spec["name"]?.stringValue.map { "\($0) (\(id))" }) ?? id, resources: [], fields: [])
            for resource in spec["resources"]?.arrayValue ?? [] { if let name = resource.stringValue { grant.resources.insert(name) } }
            for member in spec["fields"]?.objectValue?.members ?? [] {
                for field in member.value.arrayValue ?? [] { if let name = field.stringValue { grant.fields.insert("\(member.key).\(name)") } }
            }
            for key in spec["masking"]?.objectValue?.keys ?? [] { grant.fields.insert(key) }
            return grant
        }
    }

    /// The mapping texts in use: the files of `folder` and the newest published versions (which
    /// replace the file of the same id).
    public static func mappingTexts(folder: String, published: [String: MappingVersion]) -> [(name: String, text: String)] {
        var byID: [String: (name: String, text: String)] = [:]
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in names.sorted() where name.hasSuffix(".json5") && !name.hasSuffix(".tests.json5") {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { continue }
            let id = (try? JSON5.parseDocument(text, file: path))?["id"]?.stringValue ?? name
            byID[id] = (name, text)
        }
        for (id, version) in published { byID[id] = ("\(id) (version \(version.version))", version.text) }
        return byID.keys.sorted().map { byID[$0]! }
    }
}

/// The catalog a hub last started with, kept in `catalog_snapshots` (migration 0008) as the text
/// of its files, so the next start can tell what changed.
public enum CatalogSnapshots {
    /// The catalog folder's files (`catalog.json5`, `resources/*.json5`, `codes/*.json5`) by relative path.
    public static func files(of directory: String) -> [String: String] {
        var out: [String: String] = [:]
        let fm = FileManager.default
        for sub in ["", "resources", "codes"] {
            let folder = sub.isEmpty ? directory : (directory as NSString).appendingPathComponent(sub)
            for name in (try? fm.contentsOfDirectory(atPath: folder)) ?? [] where name.hasSuffix(".json5") {
                let path = (folder as NSString).appendingPathComponent(name)
                if let data = fm.contents(atPath: path) { out[sub.isEmpty ? name : sub + "/" + name] = String(decoding: data, as: UTF8.self) }
            }
        }
        return out
    }

    static func digest(_ files: [String: String]) -> String {
        Secrets.hex(Secrets.sha256(files.keys.sorted().map { $0 + "\u{0}" + files[$0]! }.joined(separator: "\u{0}")))
    }

    /// The last stored snapshot's files and digest, if any.
    public static func latest(_ pool: ConnectionPool) throws -> (files: [String: String], digest: String)? {
        guard let row = try pool.withConnection({ c in
            try c.query("SELECT files::text AS files, digest FROM catalog_snapshots ORDER BY id DESC LIMIT 1").first
        }), let text = row["files"], let digest = row["digest"], let object = (try? JSON5.parseJSON(text))?.objectValue else { return nil }
        var files: [String: String] = [:]
        for member in object.members { files[member.key] = member.value.stringValue ?? "" }
        return (files, digest)
    }

    /// Stores the files as the catalog in use.
    public static func store(_ files: [String: String], pool: ConnectionPool) throws {
        let json = JSONValue.object(JSONObject(files.keys.sorted().map { JSONObject.Member(key: $0, value: .string(files[$0]!)) })).jsonText()
        try pool.withConnection { c in
            _ = try c.execute("INSERT INTO catalog_snapshots (files, digest) VALUES ($1::jsonb, $2)", [json, digest(files)])
        }
    }

    /// Loads a catalog from a snapshot's files (written to a temporary folder and read back).
    public static func catalog(from files: [String: String]) throws -> Catalog {
        let folder = NSTemporaryDirectory() + "recordonce-catalog-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for (path, text) in files {
            let full = (folder as NSString).appendingPathComponent(path)
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        return try Catalog.load(directory: folder)
    }

    /// At start-up: compares the catalog folder with the one the hub last started with. Without
    /// a change, or with only non-breaking ones (logged as notes), the folder becomes the stored
    /// snapshot. A breaking change stops the start, listing every one, unless `accept`.
    static func checkAtStart(catalog: Catalog, directory: String, mappings: [(name: String, text: String)],
                             pool: ConnectionPool, accept: Bool, logger: Logger) throws {
        let files = files(of: directory)
        guard let previous = try latest(pool) else { return try store(files, pool: pool) }
        guard previous.digest != digest(files) else { return }
        let old: Catalog
        do { old = try Self.catalog(from: previous.files) } catch {
            logger.warning("the catalog the hub last started with does not load any more; it is replaced without a check")
            return try store(files, pool: pool)
        }
        let findings = try CatalogCheck(old: old, new: catalog, mappings: mappings, pool: pool).run()
        let breaking = findings.filter(\.breaking)
        for finding in findings where !finding.breaking { logger.info("catalog change: \(finding.line)") }
        if !breaking.isEmpty && !accept {
            throw HubError("the catalog in \(directory) changed in \(breaking.count) breaking way(s) since the hub last started:\n"
                           + breaking.map { "  " + $0.line }.joined(separator: "\n")
                           + "\nfix the catalog, or start with --accept-catalog-changes once the mappings, subscriptions and data are dealt with")
        }
        for finding in breaking { logger.warning("accepted breaking catalog change: \(finding.line)") }
        try store(files, pool: pool)
    }
}
