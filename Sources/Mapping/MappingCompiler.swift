import Foundation
import JSON5
import SourceFormats

/// Parses a mapping, checks it against the catalog and builds the plan, collecting every problem.
enum MappingCompiler {
    static func compile(text: String, file: String, schema: MappingSchema) -> (MappingPlan?, [MappingProblem]) {
        let root: JSONNode
        do {
            root = try JSON5.parseDocument(text, file: file)
        } catch {
            return (nil, [MappingProblem(file: file, position: error.position, path: "", rule: "mapping.json5", message: "malformed JSON5: \(error.message)")])
        }
        var parser = MappingSpecParser(file: file, identifierRules: schema.rules.identifierRuleNames, departments: schema.departments)
        let spec = parser.parse(root)
        var problems = parser.problems
        guard let spec else { return (nil, sorted(problems)) }
        var checker = SchemaChecker(spec: spec, schema: schema)
        let plan = checker.build()
        problems += checker.problems
        return (plan, sorted(problems))
    }

    static func sorted(_ problems: [MappingProblem]) -> [MappingProblem] {
        problems.sorted { a, b in
            let pa = a.position ?? SourcePosition(line: 0, column: 0)
            let pb = b.position ?? SourcePosition(line: 0, column: 0)
            return pa < pb
        }
    }
}

/// Checks a parsed mapping against the catalog and compiles what is valid.
struct SchemaChecker {
    let spec: MappingSpec
    let schema: MappingSchema
    var problems: [MappingProblem] = []
    var usedCrosswalks = Set<String>()
    var checkedCrosswalkTables = Set<String>()
    /// Root keys read by the plan -> slot in the per-record key index.
    var keySlots: [String: Int] = [:]
    let currentYear = Calendar(identifier: .gregorian).component(.year, from: Date())

    init(spec: MappingSpec, schema: MappingSchema) {
        self.spec = spec
        self.schema = schema
    }

    mutating func problem(_ position: SourcePosition?, _ path: String, _ rule: String, _ message: String, _ severity: MappingProblem.Severity = .error) {
        problems.append(MappingProblem(file: spec.file, position: position, path: path, rule: rule, message: message, severity: severity))
    }

    /// The path with a key-index slot when it is read from the record root.
    mutating func slotted(_ path: SourcePath, rootContext: Bool) -> SourcePath {
        guard rootContext || path.fromRoot, case .key(let first) = path.steps[0] else { return path }
        var p = path
        if let slot = keySlots[first] { p.slot = slot } else {
            p.slot = keySlots.count
            keySlots[first] = p.slot
        }
        return p
    }

    mutating func build() -> MappingPlan? {
        var outputs: [CompiledOutput] = []
        for output in spec.outputs {
            if let compiled = compileOutput(output) { outputs.append(compiled) }
        }
        for (name, cw) in spec.crosswalks where !usedCrosswalks.contains(name) {
            problem(cw.position, "crosswalks.\(name)", "mapping.unused_crosswalk", "crosswalk is never used", .warning)
        }
        let skip = spec.skip.flatMap { compileCondition($0, "skip", rootContext: true) }
        return MappingPlan(id: spec.id, version: spec.version, source: spec.source, skip: skip, outputs: outputs, rules: schema.rules,
                           keySlots: keySlots)
    }

    mutating func compileOutput(_ output: OutputSpec) -> CompiledOutput? {
        guard let resource = schema.resources[output.resource] else {
            var message = "resource '\(output.resource)' is not in the catalog"
            if let near = Suggest.nearest(output.resource, in: Array(schema.resources.keys)) { message += " (did you mean '\(near)'?)" }
            problem(output.position, "\(output.path).resource", "mapping.unknown_resource", message)
            return nil
        }
        var fields: [(Int, CompiledField)] = []
        var mapped = Set<String>()
        for field in output.fields {
            guard let index = resource.fields.firstIndex(where: { $0.name == field.target }) else {
                var message = "field '\(field.target)' is not a field of \(resource.name) in the catalog"
                if let near = Suggest.nearest(field.target, in: resource.fields.map(\.name)) { message += " (did you mean '\(near)'?)" }
                problem(field.position, field.path, "mapping.unknown_target", message)
                continue
            }
            if !mapped.insert(field.target).inserted {
                problem(field.position, field.path, "mapping.duplicate_target", "field is mapped twice in this output")
                continue
            }
            if let compiled = compileField(field, target: resource.fields[index], resource: resource, rootContext: output.each == nil) {
                fields.append((index, compiled))
            }
        }
        let unmappedIdentity = resource.identityKey.filter { !mapped.contains($0) }
        if !unmappedIdentity.isEmpty {
            problem(output.position, output.path, "mapping.identity_unmapped",
                    "identity key of \(resource.name) is not mapped: \(unmappedIdentity.joined(separator: ", "))")
        }
        if !output.partial {
            let missing = resource.fields.filter { $0.required && !mapped.contains($0.name) && !resource.identityKey.contains($0.name) }.map(\.name)
            if !missing.isEmpty {
                problem(output.position, output.path, "mapping.required_unmapped",
                        "required fields of \(resource.name) are not mapped: \(missing.joined(separator: ", ")) (set partial: true if this source only updates some facts)")
            }
        }
        if output.matchable != nil, !resource.hasMatchRules {
            problem(output.position, "\(output.path).matchable", "mapping.not_matchable",
                    "\(resource.name) declares no match rules in the catalog, so its records cannot be matched without their identity key")
        }
        let compiled = CompiledOutput(resource: resource.name, when: output.when.flatMap { compileCondition($0, "\(output.path).when", rootContext: true) },
                                      each: output.each.map { slotted($0, rootContext: true) }, fields: fields.sorted { $0.0 < $1.0 }.map(\.1),
                                      identityKey: resource.identityKey, partial: output.partial)
        compiled.matchable = output.matchable
        return compiled
    }

    mutating func compileField(_ field: FieldSpec, target: TargetField, resource: TargetResource, rootContext: Bool) -> CompiledField? {
        let type: CompiledType
        switch target.type {
        case .string, .reference: type = .string
        case .code(let table):
            guard let codes = schema.codeTables[table] else {
                problem(field.position, field.path, "mapping.catalog", "the catalog has no code table '\(table)' for this field")
                return nil
            }
            type = .code(ByteKeyedTable(codes.map { ($0, true) }), table: table)
        case .date: type = .date
        case .datetime: type = .datetime
        case .integer: type = .integer
        case .decimal: type = .decimal
        case .boolean: type = .boolean
        }
        var steps: [CompiledStep] = []
        var joinSeparator: String?
        var ok = true
        for t in field.transforms {
            switch t.kind {
            case .trim: steps.append(.trim)
            case .foldWidth: steps.append(.foldWidth)
            case .upper: steps.append(.upper)
            case .lower: steps.append(.lower)
            case .removeSpaces: steps.append(.removeSpaces)
            case .regex(let pattern, let group):
                do {
                    let regex = try NSRegularExpression(pattern: pattern)
                    if group > regex.numberOfCaptureGroups {
                        problem(t.position, t.path, "mapping.regex", "regex has \(regex.numberOfCaptureGroups) capture group(s), group \(group) requested")
                        ok = false
                    }
                    steps.append(.regex(regex, group: group))
                } catch {
                    problem(t.position, t.path, "mapping.regex", "invalid regular expression")
                    ok = false
                }
            case .split(let sep, let index):
                if sep.isEmpty { problem(t.position, t.path, "mapping.transform", "split separator must not be empty"); ok = false }
                steps.append(.split(separator: sep, index: index))
            case .join(let sep):
                joinSeparator = sep
                steps.append(.join)
            case .replace(let from, let to):
                if from.isEmpty { problem(t.position, t.path, "mapping.transform", "replace 'from' must not be empty"); ok = false }
                steps.append(.replace(from: from, to: to))
            case .pad(let length, let c): steps.append(.pad(length: length, with: c))
            case .prefix(let p): steps.append(.prefix(p))
            case .suffix(let s): steps.append(.suffix(s))
            case .date(let formats):
                if !(target.type == .date || target.type == .datetime) {
                    problem(t.position, t.path, "mapping.type_mismatch", "date transform on a field of type \(target.type)")
                    ok = false
                }
                steps.append(.date(formats.map(DatePattern.init)))
            case .crosswalk(let name):
                guard let cw = spec.crosswalks[name] else {
                    var message = "no crosswalk named '\(name)'"
                    if let near = Suggest.nearest(name, in: Array(spec.crosswalks.keys)) { message += " (did you mean '\(near)'?)" }
                    problem(t.position, t.path, "mapping.unknown_crosswalk", message)
                    ok = false
                    continue
                }
                usedCrosswalks.insert(name)
                if case .code(let codes, let table) = type, checkedCrosswalkTables.insert("\(name)|\(table)").inserted {
                    for entry in cw.entries where !codes.contains(entry.code) {
                        problem(entry.position, "crosswalks.\(name).\(entry.local)", "mapping.crosswalk_code",
                                "'\(entry.code)' is not a code of table '\(table)' (used by \(resource.name).\(target.name))")
                    }
                }
                steps.append(.crosswalk(ByteKeyedTable(cw.entries.map { ($0.local, $0.code) }), name: name))
            case .identifier(let rule):
                if !(target.type == .string || { if case .reference = target.type { true } else { false } }()) {
                    problem(t.position, t.path, "mapping.type_mismatch", "identifier rule '\(rule)' on a field of type \(target.type)")
                    ok = false
                }
                guard let normalizer = schema.rules.identifierNormalizer(rule: rule) else {
                    problem(t.position, t.path, "mapping.unknown_transform", "the catalog has no identifier rule '\(rule)'")
                    ok = false
                    continue
                }
                steps.append(.identifier(normalizer))
            case .boolean(let tw, let fw):
                if target.type != .boolean {
                    problem(t.position, t.path, "mapping.type_mismatch", "boolean transform on a field of type \(target.type)")
                    ok = false
                }
                steps.append(.boolean(trueWords: Set(tw), falseWords: Set(fw)))
            }
        }
        let isIdentity = resource.identityKey.contains(target.name)
        let catalogRule = target.identifierRule.flatMap { schema.rules.identifierNormalizer(rule: $0) }
        if let rule = target.identifierRule, catalogRule == nil {
            problem(field.position, field.path, "mapping.catalog", "the catalog names identifier rule '\(rule)' for this field, which does not exist")
        }
        let compiled = CompiledField(
            name: target.name, label: "\(resource.name).\(target.name)", sources: field.from.map { slotted($0, rootContext: rootContext) },
            sourceLabel: field.from.isEmpty ? nil : field.from.map(\.text).joined(separator: "+"),
            separator: field.separator, constant: field.constant, defaultValue: field.defaultValue, steps: steps,
            joinSeparator: joinSeparator, skipWhen: field.skipWhen.flatMap { compileCondition($0, "\(field.path).skipWhen", rootContext: rootContext) },
            type: type, identifierRule: catalogRule, isIdentity: isIdentity, required: target.required,
            rejectOnInvalid: field.onInvalid.map { $0 == .reject } ?? (isIdentity || target.required),
            currentYear: currentYear)
        // A constant or default must itself be a valid value of the field's type.
        for (label, value) in [("const", field.constant), ("default", field.defaultValue)] {
            guard let value else { continue }
            let probe = CompiledField(name: compiled.name, label: compiled.label, sources: [], sourceLabel: nil, separator: "",
                                      constant: value, defaultValue: nil, steps: label == "const" ? steps : [], joinSeparator: nil,
                                      skipWhen: nil, type: type, identifierRule: catalogRule, isIdentity: false,
                                      required: false, rejectOnInvalid: true, currentYear: currentYear)
            let empty = SourceObject()
            let invalid: String? = withUnsafeTemporaryAllocation(of: Int32.self, capacity: 1) { slots in
                slots.initialize(repeating: -1)
                let scope = RecordScope(object: empty, root: empty, objectIsRoot: true, slots: UnsafeBufferPointer(slots))
                if case .invalid(let problem) = probe.evaluate(scope, rules: schema.rules) { return problem.message }
                return nil
            }
            if let message = invalid {
                problem(field.constantPosition, "\(field.path).\(label)", "mapping.type_mismatch",
                        "\(label) value is not valid for type \(target.type): \(message)")
                ok = false
            }
        }
        return ok ? compiled : nil
    }

    mutating func compileCondition(_ c: ConditionSpec, _ path: String, rootContext: Bool) -> CompiledCondition? {
        switch c {
        case .equals(let p, let values): return .equals(slotted(p, rootContext: rootContext), ByteKeyedTable(values.map { ($0, true) }))
        case .empty(let p): return .empty(slotted(p, rootContext: rootContext))
        case .present(let p): return .present(slotted(p, rootContext: rootContext))
        case .matches(let p, let pattern):
            guard let regex = try? NSRegularExpression(pattern: pattern) else {
                problem(nil, path, "mapping.regex", "invalid regular expression in condition")
                return nil
            }
            return .matches(slotted(p, rootContext: rootContext), regex)
        case .not(let inner): return compileCondition(inner, path, rootContext: rootContext).map { .not($0) }
        case .all(let items): return .all(items.compactMap { compileCondition($0, path, rootContext: rootContext) })
        case .any(let items): return .any(items.compactMap { compileCondition($0, path, rootContext: rootContext) })
        }
    }
}
