import JSON5
import SourceFormats

/// Reads a mapping file's JSON5 tree into a `MappingSpec`, collecting every structural problem
/// (unknown keys, wrong value kinds, unknown transforms, malformed paths) instead of stopping at the first.
struct MappingSpecParser {
    let file: String
    let identifierRules: Set<String>
    /// The catalog's department ids (nil: `source.department` is not checked).
    let departments: [String]?
    private(set) var problems: [MappingProblem] = []

    init(file: String, identifierRules: [String], departments: [String]? = nil) {
        self.file = file
        self.identifierRules = Set(identifierRules)
        self.departments = departments
    }

    mutating func problem(_ node: JSONNode?, _ path: String, _ rule: String, _ message: String, at position: SourcePosition? = nil) {
        problems.append(MappingProblem(file: file, position: position ?? node?.position, path: path, rule: rule, message: message))
    }

    /// Reports keys of an object that are not in `allowed` (with a "did you mean" hint).
    mutating func checkKeys(_ node: JSONNode, _ path: String, allowed: [String]) {
        for member in node.members ?? [] where !allowed.contains(member.key) {
            var message = "unknown key '\(member.key)'"
            if let near = Suggest.nearest(member.key, in: allowed) { message += " (did you mean '\(near)'?)" }
            message += "; allowed: \(allowed.joined(separator: ", "))"
            problem(nil, join(path, member.key), "mapping.unknown_key", message, at: member.keyPosition)
        }
    }

    func join(_ path: String, _ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    mutating func string(_ node: JSONNode?, _ path: String, required: Bool = false) -> String? {
        guard let node else {
            if required { problem(nil, path, "mapping.missing_key", "required key is missing") }
            return nil
        }
        guard let s = node.stringValue else {
            problem(node, path, "mapping.type", "expected a string, found \(node.kindName)")
            return nil
        }
        return s
    }

    /// A scalar written as a string, number or boolean, as text (codes should be strings: "01").
    mutating func scalarText(_ node: JSONNode, _ path: String) -> String? {
        switch node.kind {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default:
            problem(node, path, "mapping.type", "expected a string, number or boolean, found \(node.kindName)")
            return nil
        }
    }

    mutating func sourcePath(_ node: JSONNode?, _ path: String) -> SourcePath? {
        guard let text = string(node, path) else { return nil }
        guard let p = SourcePath(text) else {
            problem(node, path, "mapping.path", "malformed source path (use name, a.b, a[0].b, @attr or $.root)")
            return nil
        }
        return p
    }

    // MARK: document

    mutating func parse(_ root: JSONNode) -> MappingSpec? {
        guard root.members != nil else {
            problem(root, "", "mapping.type", "a mapping file must be an object")
            return nil
        }
        checkKeys(root, "", allowed: ["id", "version", "description", "source", "crosswalks", "skip", "outputs"])
        let id = string(root["id"], "id", required: true) ?? ""
        var version = 0
        if let v = root["version"] {
            if let n = v.intValue, n >= 1 { version = n } else { problem(v, "version", "mapping.type", "version must be a whole number >= 1") }
        } else {
            problem(root, "version", "mapping.missing_key", "required key 'version' is missing")
        }
        let description = string(root["description"], "description")
        let source = parseSource(root["source"])
        var crosswalks: [String: CrosswalkSpec] = [:]
        if let node = root["crosswalks"] {
            if let members = node.members {
                for member in members {
                    if let cw = parseCrosswalk(member.value, name: member.key, path: "crosswalks.\(member.key)") { crosswalks[member.key] = cw }
                }
            } else {
                problem(node, "crosswalks", "mapping.type", "expected an object of named tables")
            }
        }
        let skip = root["skip"].flatMap { parseCondition($0, "skip") }
        var outputs: [OutputSpec] = []
        if let node = root["outputs"] {
            if let items = node.arrayValue, !items.isEmpty {
                for (i, item) in items.enumerated() {
                    if let out = parseOutput(item, "outputs[\(i)]") { outputs.append(out) }
                }
            } else {
                problem(node, "outputs", "mapping.type", "expected a non-empty array of outputs")
            }
        } else {
            problem(root, "outputs", "mapping.missing_key", "required key 'outputs' is missing")
        }
        guard let source else { return nil }
        return MappingSpec(id: id, version: version, description: description, source: source, crosswalks: crosswalks,
                           skip: skip, outputs: outputs, file: file)
    }

    mutating func parseSource(_ node: JSONNode?) -> SourceSpec? {
        guard let node else {
            problem(nil, "source", "mapping.missing_key", "required key 'source' is missing")
            return nil
        }
        guard node.members != nil else {
            problem(node, "source", "mapping.type", "expected an object")
            return nil
        }
        checkKeys(node, "source", allowed: ["adapter", "department", "format", "recordsPath", "key", "csv", "xml"])
        let adapter = string(node["adapter"], "source.adapter", required: true) ?? ""
        let department = string(node["department"], "source.department", required: true) ?? ""
        if !department.isEmpty, let departments, !departments.contains(department) {
            problem(node["department"], "source.department", "mapping.unknown_department",
                    "'\(department)' is not a department of the catalog (known: \(departments.joined(separator: ", "))); add it to catalog.json5 first")
        }
        var format = SourceFormat.json
        if let text = string(node["format"], "source.format", required: true) {
            if let f = SourceFormat(rawValue: text) { format = f } else {
                problem(node["format"], "source.format", "mapping.source_format", "unknown format '\(text)'; use json, ndjson, csv or xml")
            }
        }
        var options = SourceReadOptions(format: format)
        options.recordsPath = string(node["recordsPath"], "source.recordsPath")
        let key = node["key"].flatMap { sourcePath($0, "source.key") }
        options.keyField = key?.text
        if let csv = node["csv"] {
            checkKeys(csv, "source.csv", allowed: ["delimiter", "header", "encoding"])
            if let d = string(csv["delimiter"], "source.csv.delimiter") {
                let resolved = d == "\\t" ? "\t" : d
                if resolved.utf8.count == 1, let b = resolved.utf8.first, b < 0x80 { options.csv.delimiter = b } else {
                    problem(csv["delimiter"], "source.csv.delimiter", "mapping.csv", "delimiter must be one ASCII character")
                }
            }
            if let h = csv["header"] {
                if let b = h.boolValue { options.csv.hasHeader = b } else { problem(h, "source.csv.header", "mapping.type", "expected true or false") }
            }
            if let e = string(csv["encoding"], "source.csv.encoding"), e != "auto" {
                if let enc = TextEncoding(name: e) { options.csv.encoding = enc } else {
                    problem(csv["encoding"], "source.csv.encoding", "mapping.csv", "unknown encoding '\(e)'; use utf-8, gb18030 (gbk) or auto")
                }
            }
        }
        if let xml = node["xml"] {
            checkKeys(xml, "source.xml", allowed: ["record", "xpath"])
            if let r = string(xml["record"], "source.xml.record") { options.xmlRecords = .element(r) }
            if let x = string(xml["xpath"], "source.xml.xpath") { options.xmlRecords = .xpath(x) }
        }
        if format == .xml && options.xmlRecords == nil {
            problem(node, "source.xml", "mapping.missing_key", "XML sources need xml.record (element name) or xml.xpath")
        }
        return SourceSpec(adapter: adapter, department: department, format: format, readOptions: options, key: key)
    }

    mutating func parseCrosswalk(_ node: JSONNode, name: String, path: String) -> CrosswalkSpec? {
        guard let members = node.members else {
            problem(node, path, "mapping.type", "a crosswalk is an object of local value -> national code")
            return nil
        }
        var entries: [(local: String, code: String, position: SourcePosition)] = []
        for member in members {
            if let code = scalarText(member.value, "\(path).\(member.key)") {
                entries.append((member.key, code, member.value.position))
            }
        }
        return CrosswalkSpec(name: name, entries: entries, position: node.position)
    }

    mutating func parseOutput(_ node: JSONNode, _ path: String) -> OutputSpec? {
        guard node.members != nil else {
            problem(node, path, "mapping.type", "expected an output object")
            return nil
        }
        checkKeys(node, path, allowed: ["resource", "description", "when", "each", "partial", "fields", "matchable"])
        let resource = string(node["resource"], "\(path).resource", required: true) ?? ""
        let when = node["when"].flatMap { parseCondition($0, "\(path).when") }
        let each = node["each"].flatMap { sourcePath($0, "\(path).each") }
        var partial = false
        if let p = node["partial"] {
            if let b = p.boolValue { partial = b } else { problem(p, "\(path).partial", "mapping.type", "expected true or false") }
        }
        var fields: [FieldSpec] = []
        if let f = node["fields"], let members = f.members {
            for member in members {
                if let field = parseField(member.value, target: member.key, keyPosition: member.keyPosition, "\(path).fields.\(member.key)") {
                    fields.append(field)
                }
            }
        } else {
            problem(node["fields"] ?? node, "\(path).fields", "mapping.missing_key", "an output needs a 'fields' object")
        }
        var output = OutputSpec(resource: resource, position: (node.member("resource")?.value.position) ?? node.position, path: path,
                                when: when, each: each, partial: partial, fields: fields)
        if let m = node["matchable"] { output.matchable = parseMatchable(m, "\(path).matchable") }
        return output
    }

    /// `matchable: true` (default thresholds), `false`, or `{ autoLink: 0.9 }`.
    mutating func parseMatchable(_ node: JSONNode, _ path: String) -> MatchSettings? {
        if let b = node.boolValue { return b ? MatchSettings() : nil }
        guard node.members != nil else {
            problem(node, path, "mapping.type", "expected true, false or { autoLink: 0.8 }")
            return nil
        }
        checkKeys(node, path, allowed: ["autoLink"])
        var settings = MatchSettings()
        if let a = node["autoLink"] {
            if let v = a.numberText.flatMap(Double.init), v > 0, v <= 1 { settings.autoLink = v } else {
                problem(a, "\(path).autoLink", "mapping.type", "autoLink is a score above 0 and at most 1")
            }
        }
        return settings
    }

    mutating func parseField(_ node: JSONNode, target: String, keyPosition: SourcePosition, _ path: String) -> FieldSpec? {
        var field = FieldSpec(target: target, position: keyPosition, path: path, from: [], separator: "", constant: nil,
                              defaultValue: nil, constantPosition: nil, transforms: [], skipWhen: nil, onInvalid: nil)
        if node.stringValue != nil {
            // Shorthand: `name: "XM"` reads the source field XM with no transforms.
            if let p = sourcePath(node, path) { field.from = [p] }
            return field
        }
        guard node.members != nil else {
            problem(node, path, "mapping.type", "a field is a source path string or an object")
            return nil
        }
        checkKeys(node, path, allowed: ["from", "separator", "const", "default", "transforms", "crosswalk", "skipWhen", "onInvalid", "description"])
        if let from = node["from"] {
            if let items = from.arrayValue {
                for (i, item) in items.enumerated() { if let p = sourcePath(item, "\(path).from[\(i)]") { field.from.append(p) } }
            } else if let p = sourcePath(from, "\(path).from") {
                field.from = [p]
            }
        }
        field.separator = string(node["separator"], "\(path).separator") ?? ""
        if let c = node["const"] {
            field.constant = scalarText(c, "\(path).const")
            field.constantPosition = c.position
        }
        if let d = node["default"] {
            field.defaultValue = scalarText(d, "\(path).default")
            field.constantPosition = field.constantPosition ?? d.position
        }
        if field.constant == nil && field.from.isEmpty {
            problem(node, path, "mapping.no_source", "field needs 'from' (source path) or 'const'")
        }
        if field.constant != nil && !field.from.isEmpty {
            problem(node["const"], "\(path).const", "mapping.conflict", "'const' and 'from' exclude each other")
        }
        if let t = node["transforms"] {
            if let items = t.arrayValue {
                for (i, item) in items.enumerated() {
                    if let spec = parseTransform(item, "\(path).transforms[\(i)]") { field.transforms.append(spec) }
                }
            } else {
                problem(t, "\(path).transforms", "mapping.type", "expected an array of transforms")
            }
        }
        if let cw = node["crosswalk"], let name = string(cw, "\(path).crosswalk") {
            field.transforms.append(TransformSpec(kind: .crosswalk(name: name), position: cw.position, path: "\(path).crosswalk"))
        }
        field.skipWhen = node["skipWhen"].flatMap { parseCondition($0, "\(path).skipWhen") }
        if let o = node["onInvalid"], let text = string(o, "\(path).onInvalid") {
            if let policy = InvalidPolicy(rawValue: text) { field.onInvalid = policy } else {
                problem(o, "\(path).onInvalid", "mapping.type", "onInvalid must be 'reject' or 'drop'")
            }
        }
        return field
    }

    static let simpleTransforms: [String: TransformKind] = [
        "trim": .trim, "fold_width": .foldWidth, "upper": .upper, "lower": .lower, "remove_spaces": .removeSpaces,
    ]
    static let objectTransforms = ["regex", "split", "join", "replace", "pad", "prefix", "suffix", "date", "crosswalk", "identifier", "boolean"]

    mutating func parseTransform(_ node: JSONNode, _ path: String) -> TransformSpec? {
        let position = node.position
        if let name = node.stringValue {
            if let kind = Self.simpleTransforms[name] { return TransformSpec(kind: kind, position: position, path: path) }
            if identifierRules.contains(name) { return TransformSpec(kind: .identifier(rule: name), position: position, path: path) }
            if name == "date" { return TransformSpec(kind: .date(formats: []), position: position, path: path) }
            let known = Array(Self.simpleTransforms.keys).sorted() + identifierRules.sorted() + ["date"]
            var message = "unknown transform '\(name)'"
            if let near = Suggest.nearest(name, in: known + Self.objectTransforms) { message += " (did you mean '\(near)'?)" }
            problem(node, path, "mapping.unknown_transform", message)
            return nil
        }
        guard let members = node.members, members.count == 1, let member = members.first else {
            problem(node, path, "mapping.transform", "a transform is a name (\"trim\") or an object with one key ({split: {...}})")
            return nil
        }
        let arg = member.value
        let argPath = "\(path).\(member.key)"
        let kind: TransformKind?
        switch member.key {
        case "regex":
            if let pattern = arg.stringValue {
                kind = .regex(pattern: pattern, group: 1)
            } else {
                checkKeys(arg, argPath, allowed: ["pattern", "group"])
                let pattern = string(arg["pattern"], "\(argPath).pattern", required: true)
                let group = arg["group"]?.intValue ?? 1
                kind = pattern.map { .regex(pattern: $0, group: group) }
            }
        case "split":
            checkKeys(arg, argPath, allowed: ["separator", "index"])
            let sep = string(arg["separator"], "\(argPath).separator", required: true)
            let index = arg["index"]?.intValue ?? 0
            kind = sep.map { .split(separator: $0, index: index) }
        case "join": kind = string(arg, argPath).map { .join(separator: $0) }
        case "replace":
            checkKeys(arg, argPath, allowed: ["from", "to"])
            let from = string(arg["from"], "\(argPath).from", required: true)
            let to = string(arg["to"], "\(argPath).to") ?? ""
            kind = from.map { .replace(from: $0, to: to) }
        case "pad":
            checkKeys(arg, argPath, allowed: ["length", "with"])
            let length = arg["length"]?.intValue
            let with = string(arg["with"], "\(argPath).with") ?? "0"
            if length == nil || with.count != 1 {
                problem(arg, argPath, "mapping.transform", "pad needs {length: N, with: \"0\"} (one character)")
                kind = nil
            } else {
                kind = .pad(length: length!, with: with.first!)
            }
        case "prefix": kind = string(arg, argPath).map { .prefix($0) }
        case "suffix": kind = string(arg, argPath).map { .suffix($0) }
        case "date":
            if let one = arg.stringValue { kind = .date(formats: [one]) }
            else if let items = arg.arrayValue { kind = .date(formats: items.compactMap { string($0, argPath) }) }
            else { problem(arg, argPath, "mapping.type", "date takes a format string or an array of formats"); kind = nil }
            if case .date(let formats) = kind {
                for f in formats where !DatePattern.isValid(f) {
                    problem(arg, argPath, "mapping.date_format", "date format '\(f)' uses no recognised pattern letters (yyyy yy MM M dd d HH mm ss)")
                }
            }
        case "crosswalk": kind = string(arg, argPath).map { .crosswalk(name: $0) }
        case "identifier":
            if let rule = string(arg, argPath) {
                if identifierRules.contains(rule) { kind = .identifier(rule: rule) } else {
                    problem(arg, argPath, "mapping.unknown_transform", "unknown identifier rule '\(rule)'; known: \(identifierRules.sorted().joined(separator: ", "))")
                    kind = nil
                }
            } else { kind = nil }
        case "boolean":
            checkKeys(arg, argPath, allowed: ["true", "false"])
            let t = arg["true"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let f = arg["false"]?.arrayValue?.compactMap(\.stringValue) ?? []
            kind = .boolean(trueWords: t, falseWords: f)
        default:
            var message = "unknown transform '\(member.key)'"
            if let near = Suggest.nearest(member.key, in: Self.objectTransforms + Array(Self.simpleTransforms.keys)) { message += " (did you mean '\(near)'?)" }
            problem(nil, path, "mapping.unknown_transform", message, at: member.keyPosition)
            kind = nil
        }
        return kind.map { TransformSpec(kind: $0, position: position, path: path) }
    }

    static let conditionKeys = ["field", "equals", "in", "empty", "present", "matches", "not", "all", "any"]

    mutating func parseCondition(_ node: JSONNode, _ path: String) -> ConditionSpec? {
        guard node.members != nil else {
            problem(node, path, "mapping.condition", "a condition is an object: {field, equals|in|empty|present|matches} or {not|all|any}")
            return nil
        }
        checkKeys(node, path, allowed: Self.conditionKeys)
        if let n = node["not"] { return parseCondition(n, "\(path).not").map { .not($0) } }
        for combinator in ["all", "any"] {
            if let list = node[combinator] {
                guard let items = list.arrayValue else {
                    problem(list, "\(path).\(combinator)", "mapping.condition", "expected an array of conditions")
                    return nil
                }
                let parts = items.enumerated().compactMap { parseCondition($0.element, "\(path).\(combinator)[\($0.offset)]") }
                return combinator == "all" ? .all(parts) : .any(parts)
            }
        }
        guard let field = sourcePath(node["field"], "\(path).field") else {
            if node["field"] == nil { problem(node, "\(path).field", "mapping.condition", "condition needs 'field'") }
            return nil
        }
        if let e = node["equals"] ?? node["in"] {
            if let items = e.arrayValue { return .equals(field, items.compactMap { scalarText($0, "\(path).in") }) }
            return scalarText(e, "\(path).equals").map { .equals(field, [$0]) }
        }
        if node["empty"]?.boolValue == true { return .empty(field) }
        if node["present"]?.boolValue == true { return .present(field) }
        if let m = string(node["matches"], "\(path).matches") { return .matches(field, m) }
        problem(node, path, "mapping.condition", "condition needs one of equals, in, empty: true, present: true, matches")
        return nil
    }
}

/// "Did you mean" suggestions by edit distance.
enum Suggest {
    static func nearest(_ word: String, in candidates: [String]) -> String? {
        let w = Array(word.lowercased())
        var best: (String, Int)?
        for c in candidates {
            let d = distance(w, Array(c.lowercased()))
            if d <= max(2, w.count / 3), best == nil || d < best!.1 { best = (c, d) }
        }
        return best?.0
    }

    static func distance(_ a: [Character], _ b: [Character]) -> Int {
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = previous
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
