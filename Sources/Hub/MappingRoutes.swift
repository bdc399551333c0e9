import Foundation
import HTTP
import JSON5
import Mapping
import SourceFormats

/// `/v1/mappings`: validate a mapping (and dry-run it over a sample) as `recordonce mapping
/// validate --sample` does, list mappings and their versions, publish a new version.
/// Validation is open to admins and department (adapter) tokens; the rest is admin only.
struct MappingRoutes {
    let registrations: AdapterRegistrations
    let auth: Authenticator
    /// Largest body of a validation request (mapping plus sample), in bytes.
    let maxBody: Int

    var registry: IngestRegistry { registrations.registry }

    func register(on router: Router) {
        router.add(.POST, "/v1/mappings/validate", bodyLimit: maxBody) { request in
            switch try auth.principal(for: request) {
            case .admin, .adapter: break
            case .subscriber: throw HTTPError.forbidden("this endpoint is for the hub's admins and department tokens")
            }
            return .jsonText(try validate(request.body))
        }
        router.add(.GET, "/v1/mappings") { request in
            try auth.requireAdmin(request)
            let users = adaptersByMapping()
            let all = try currentVersions()
            var items: [String] = []
            for id in all.keys.sorted() {
                let current = all[id]!
                var w = JSONWriter()
                w.string("id", id)
                w.number("version", current.version)
                w.string("source_format", Self.sourceFormat(current.text))
                w.strings("adapters", users[id, default: []].sorted())
                items.append(w.json)
            }
            return .jsonText("{\"mappings\":[" + items.joined(separator: ",") + "]}")
        }
        router.add(.GET, "/v1/mappings/{id}") { request in
            try auth.requireAdmin(request)
            let id = try Query.path(request, "id")
            guard let current = try currentVersions()[id] else { throw HTTPError.notFound("no mapping '\(id)'") }
            var versions = try registrations.mappingVersions.versions(id: id)
            if let file = fileMappings()[id], !versions.contains(where: { $0.version == file.version }) {
                versions.insert(file, at: 0)
            }
            var w = JSONWriter()
            w.string("id", id)
            w.number("version", current.version)
            w.string("text", current.text)
            w.objects("versions", versions.sorted { $0.version < $1.version }) { w, v in
                w.number("version", v.version)
                w.string("published_at", v.publishedAt)
            }
            return .jsonText(w.json)
        }
        router.add(.PUT, "/v1/mappings/{id}", bodyLimit: maxBody) { request in
            try auth.requireAdmin(request)
            return try publish(id: try Query.path(request, "id"), body: request.body)
        }
    }

    // MARK: validate

    /// The answer of `POST /v1/mappings/validate`: problems, and a dry run when a sample is given.
    func validate(_ body: [UInt8]) throws -> String {
        let object = try Self.bodyObject(body)
        guard let text = object["mapping"]?.stringValue else {
            throw HTTPError.badRequest("send {\"mapping\": \"<mapping JSON5 text>\", \"sample\": \"...\"}", code: "invalid_request")
        }
        let sample = object["sample"].flatMap { $0.isNull ? nil : $0 }
        if let sample, sample.stringValue == nil { throw HTTPError.badRequest("sample must be a string (the sample file's text)", code: "invalid_request") }
        let reveal = object["reveal"]?.boolValue ?? false
        var sampleFormat: SourceFormat?
        if let name = object["sample_format"]?.stringValue {
            guard let format = SourceFormat(rawValue: name) else {
                throw HTTPError.badRequest("sample_format must be json, ndjson, csv or xml", code: "invalid_request")
            }
            sampleFormat = format
        }
        var problems = MappingValidator.validate(text: text, file: "mapping", schema: registry.schema)
        var dryRun = "null"
        if let sampleText = sample?.stringValue, !problems.contains(where: { $0.severity == .error }),
           let plan = try? MappingPlan.compile(text: text, file: "mapping", schema: registry.schema) {
            var options = plan.source.readOptions
            if let sampleFormat, sampleFormat != options.format {
                options.format = sampleFormat
                if sampleFormat != .json { options.recordsPath = nil }
            }
            // The sample arrives as Unicode text: a declared GB18030 encoding applies to files, not to it.
            options.csv.encoding = .utf8
            do {
                let reader = try SourceReaders.reader(source: ByteSource(bytes: Array(sampleText.utf8), name: "sample"), options: options)
                let report = DryRunReport.run(plan: plan, reader: reader, sample: "sample", showValues: reveal)
                var w = JSONWriter()
                w.number("records", report.read)
                w.number("accepted", report.accepted)
                w.number("rejected", report.rejected)
                w.string("report", report.text())
                dryRun = w.json
            } catch {
                problems.append(MappingProblem(file: "sample", position: nil, path: "sample", rule: "sample.unreadable",
                                               message: "the sample cannot be read as \(options.format.rawValue): \(error)"))
            }
        }
        var w = JSONWriter()
        w.raw("valid", problems.contains(where: { $0.severity == .error }) ? "false" : "true")
        Self.write(problems, into: &w)
        w.raw("dry_run", dryRun)
        return w.json
    }

    static func write(_ problems: [MappingProblem], into w: inout JSONWriter) {
        w.objects("problems", problems) { w, p in
            w.string("severity", p.severity.rawValue)
            w.string("rule", p.rule)
            w.string("message", p.message)
            w.string("path", p.path)
            w.number("line", p.position?.line)
            w.number("column", p.position?.column)
        }
    }

    static func bodyObject(_ body: [UInt8]) throws -> JSONObject {
        let value: JSONValue
        do { value = try JSON5.parseJSON(body, file: "body") } catch {
            throw HTTPError.badRequest("the body is not JSON: \(error)", code: "invalid_json")
        }
        guard let object = value.objectValue else { throw HTTPError.badRequest("the body must be a JSON object", code: "invalid_json") }
        return object
    }

    // MARK: publish

    /// `PUT /v1/mappings/{id}`: validates the text against the catalog and the adapters that use
    /// the mapping, requires a higher version when the plan changes, stores it, and applies it.
    func publish(id: String, body: [UInt8]) throws -> Response {
        let object = try Self.bodyObject(body)
        guard let text = object["mapping"]?.stringValue else {
            throw HTTPError.badRequest("send {\"mapping\": \"<mapping JSON5 text>\"}", code: "invalid_request")
        }
        let file = "mapping \(id)"
        var problems = MappingValidator.validate(text: text, file: file, schema: registry.schema)
        func problem(_ path: String, _ rule: String, _ message: String) {
            problems.append(MappingProblem(file: file, position: nil, path: path, rule: rule, message: message))
        }
        let root = try? JSON5.parseDocument(text, file: file).value
        let version = root?["version"]?.intValue ?? 0
        let digest = MappingVersion.digest(of: text) ?? ""
        if let given = root?["id"]?.stringValue, given != id {
            problem("id", "mapping.id_mismatch", "is '\(given)', but the URL names '\(id)'")
        }
        let current = try currentVersions()[id]
        if let current {
            if digest == current.digest && version == current.version && problems.isEmpty {
                return .jsonText(Self.published(id: id, version: version, changed: false))
            }
            if version <= current.version {
                problem("version", "mapping.version_not_increased",
                        digest == current.digest ? "version \(version) is not newer than the current version \(current.version)"
                                                 : "the compiled plan changes: the version must be above the current version \(current.version)")
            }
        }
        // Every adapter that applies this mapping must still be the mapping's source.
        if let plan = try? MappingPlan.compile(text: text, file: file, schema: registry.schema) {
            for adapter in registry.adapters.values.sorted(by: { $0.declaration.id < $1.declaration.id }) where adapter.plan?.id == id {
                if plan.source.adapter != adapter.declaration.id {
                    problem("source.adapter", "mapping.adapter_mismatch", "is '\(plan.source.adapter)', but adapter '\(adapter.declaration.id)' applies this mapping")
                }
                if plan.source.department != adapter.declaration.department {
                    problem("source.department", "mapping.department_mismatch",
                            "is '\(plan.source.department)', but adapter '\(adapter.declaration.id)' belongs to '\(adapter.declaration.department)'")
                }
            }
        }
        if problems.contains(where: { $0.severity == .error }) {
            var w = JSONWriter()
            w.string("code", "invalid_mapping")
            w.string("message", "the mapping has \(problems.filter { $0.severity == .error }.count) error(s)")
            Self.write(problems, into: &w)
            return .jsonText("{\"error\":" + w.json + "}", status: 422)
        }
        guard try registrations.mappingVersions.insert(id: id, version: version, text: text, digest: digest) else {
            throw HTTPError.conflict("version \(version) of mapping '\(id)' was published meanwhile")
        }
        try registrations.refreshMappings()
        return .jsonText(Self.published(id: id, version: version, changed: true))
    }

    static func published(id: String, version: Int, changed: Bool) -> String {
        var w = JSONWriter()
        w.string("id", id)
        w.number("version", version)
        w.raw("changed", changed ? "true" : "false")
        return w.json
    }

    // MARK: what exists

    /// The current version of every mapping: the newest published one, else the file.
    func currentVersions() throws -> [String: MappingVersion] {
        var all = fileMappings()
        for (id, version) in try registrations.mappingVersions.newest() where version.version >= all[id]?.version ?? 0 {
            all[id] = version
        }
        return all
    }

    /// Mapping files in the mappings folder (`*.json5`, tests files aside), by mapping id.
    func fileMappings() -> [String: MappingVersion] {
        let folder = registry.mappingsDirectory
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        var out: [String: MappingVersion] = [:]
        for name in names.sorted() where name.hasSuffix(".json5") && !name.hasSuffix(".tests.json5") {
            let path = (folder as NSString).appendingPathComponent(name)
            guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
                  let root = try? JSON5.parseDocument(text, file: path), let id = root["id"]?.stringValue,
                  let digest = MappingVersion.digest(of: text) else { continue }
            out[id] = MappingVersion(id: id, version: root["version"]?.intValue ?? 0, text: text, digest: digest, publishedAt: nil)
        }
        return out
    }

    /// Adapter ids by the id of the mapping they apply now.
    func adaptersByMapping() -> [String: [String]] {
        var out: [String: [String]] = [:]
        for adapter in registry.adapters.values {
            if let plan = adapter.plan { out[plan.id, default: []].append(adapter.declaration.id) }
        }
        return out
    }

    static func sourceFormat(_ text: String) -> String? {
        (try? JSON5.parseDocument(text, file: "mapping"))?["source"]?["format"]?.stringValue
    }
}
