import Foundation
import JSON5
import SourceFormats

/// Runs a mapping's `.tests.json5` cases: each an input record and the expected canonical records,
/// the expected rejection, or the expected skip. The file format is in docs/mappings.md.
public struct MappingTestRunner: Sendable {
    public let schema: MappingSchema

    public init(schema: MappingSchema) { self.schema = schema }

    /// The outcome of one case.
    public struct CaseResult: Sendable {
        public var name: String
        public var line: Int
        public var passed: Bool
        /// Human-readable differences (`- expected` / `+ actual` lines); empty when passed.
        public var diff: [String]
    }

    /// The outcome of one tests file.
    public struct FileResult: Sendable {
        public var testsFile: String
        public var mappingFile: String
        public var cases: [CaseResult]
        /// Problems that kept the file or its mapping from running (exit status 2).
        public var problems: [MappingProblem]
        public var failed: Int { cases.filter { !$0.passed }.count }
    }

    /// The tests file beside a mapping: `x.json5` -> `x.tests.json5`.
    public static func testsFile(for mapping: String) -> String {
        mapping.hasSuffix(".json5") ? String(mapping.dropLast(6)) + ".tests.json5" : mapping + ".tests.json5"
    }

    /// Runs one tests file; its mapping is `mapping:` in the file, else the sibling `x.json5`.
    public func run(testsFile: String) -> FileResult {
        var result = FileResult(testsFile: testsFile, mappingFile: "", cases: [], problems: [])
        func fail(_ position: SourcePosition?, _ path: String, _ message: String, rule: String = "tests.invalid") -> FileResult {
            result.problems.append(MappingProblem(file: testsFile, position: position, path: path, rule: rule, message: message))
            return result
        }
        guard let data = FileManager.default.contents(atPath: testsFile), let text = String(data: data, encoding: .utf8) else {
            return fail(nil, "", "cannot read the tests file as UTF-8", rule: "tests.io")
        }
        let root: JSONNode
        do { root = try JSON5.parseDocument(text, file: testsFile) } catch {
            return fail(error.position, "", "malformed JSON5: \(error.message)", rule: "tests.json5")
        }
        guard root.members != nil else { return fail(root.position, "", "a tests file is an object with 'cases'") }
        for member in root.members! where !["mapping", "cases", "description"].contains(member.key) {
            result.problems.append(MappingProblem(file: testsFile, position: member.keyPosition, path: member.key, rule: "mapping.unknown_key",
                                                  message: "unknown key '\(member.key)'; allowed: mapping, description, cases"))
        }
        let directory = (testsFile as NSString).deletingLastPathComponent
        if let m = root["mapping"]?.stringValue {
            result.mappingFile = m.hasPrefix("/") ? m : (directory.isEmpty ? m : directory + "/" + m)
        } else {
            result.mappingFile = testsFile.hasSuffix(".tests.json5") ? String(testsFile.dropLast(12)) + ".json5" : testsFile
        }
        let plan: MappingPlan
        do { plan = try MappingValidator.load(file: result.mappingFile, schema: schema) } catch {
            result.problems += error.problems.filter { $0.severity == .error }
            return result
        }
        guard let cases = root["cases"]?.arrayValue, !cases.isEmpty else {
            return fail(root.position, "cases", "a tests file needs a non-empty 'cases' array")
        }
        for (i, node) in cases.enumerated() {
            switch runCase(node, index: i, plan: plan, file: testsFile) {
            case .success(let r): result.cases.append(r)
            case .failure(let p): result.problems.append(p)
            }
        }
        return result
    }

    private func runCase(_ node: JSONNode, index: Int, plan: MappingPlan, file: String) -> Result<CaseResult, MappingProblem> {
        let path = "cases[\(index)]"
        func problem(_ n: JSONNode?, _ message: String) -> Result<CaseResult, MappingProblem> {
            .failure(MappingProblem(file: file, position: n?.position ?? node.position, path: path, rule: "tests.invalid", message: message))
        }
        guard let members = node.members else { return problem(node, "a case is an object") }
        let allowed = ["name", "input", "expect", "reject", "warnings", "skipped"]
        if let unknown = members.first(where: { !allowed.contains($0.key) }) {
            return .failure(MappingProblem(file: file, position: unknown.keyPosition, path: "\(path).\(unknown.key)", rule: "mapping.unknown_key",
                                           message: "unknown key '\(unknown.key)'; allowed: \(allowed.joined(separator: ", "))"))
        }
        let name = node["name"]?.stringValue ?? "case \(index + 1)"
        guard let input = node["input"], case .object = input.kind else { return problem(node["input"], "'input' must be an object (the source record)") }
        guard case .object(let inputObject) = SourceValue(input.value) else { return problem(input, "'input' must be an object") }
        let locator = SourceLocator(file: file, line: input.position.line)
        let record = SourceRecord(fields: inputObject, locator: locator, sourceKey: plan.source.key.flatMap { $0.resolve(in: inputObject, root: inputObject)?.scalarText })
        let result = plan.apply(record)
        var diff: [String] = []

        if node["skipped"]?.boolValue == true {
            if !result.skipped { diff.append("- expected the record to be skipped") ; diff.append("+ it was not skipped") }
        } else if let reject = node["reject"] {
            guard let expected = reject.arrayValue else { return problem(reject, "'reject' must be an array of {field, rule}") }
            if !result.rejected {
                diff.append("- expected rejection")
                diff.append("+ accepted with \(result.records.count) record(s)")
            }
            let errors = result.issues.filter { $0.severity == .error }
            for e in expected {
                let field = e["field"]?.stringValue, rule = e["rule"]?.stringValue
                if field == nil && rule == nil { return problem(e, "each expected rejection names a field and/or a rule") }
                if !errors.contains(where: { (field == nil || $0.field == field) && (rule == nil || $0.rule == rule) }) {
                    diff.append("- error \(field ?? "*") \(rule ?? "*")")
                }
            }
            if diff.count > 0 || !result.rejected {
                for e in errors { diff.append("+ error \(e.field) \(e.rule): \(e.message)") }
            }
        } else if let expect = node["expect"] {
            guard let expected = expect.arrayValue else { return problem(expect, "'expect' must be an array of canonical records") }
            if result.rejected || result.skipped {
                diff.append("- \(expected.count) canonical record(s)")
                diff.append(result.skipped ? "+ skipped" : "+ rejected")
                for e in result.issues where e.severity == .error { diff.append("+ error \(e.field) \(e.rule): \(e.message)") }
            } else {
                if expected.count != result.records.count {
                    diff.append("- \(expected.count) canonical record(s)")
                    diff.append("+ \(result.records.count) canonical record(s): \(result.records.map(\.resource).joined(separator: ", "))")
                }
                for (i, e) in expected.enumerated() {
                    guard i < result.records.count else { diff.append("- record \(i + 1): \(e["resource"]?.stringValue ?? "?") (missing)"); continue }
                    diff += compare(e, result.records[i], index: i)
                }
            }
        } else {
            return problem(node, "a case needs 'expect', 'reject' or 'skipped: true'")
        }
        if let warnings = node["warnings"]?.arrayValue {
            let actual = result.issues.filter { $0.severity == .warning }
            for w in warnings {
                let field = w["field"]?.stringValue, rule = w["rule"]?.stringValue
                if !actual.contains(where: { (field == nil || $0.field == field) && (rule == nil || $0.rule == rule) }) {
                    diff.append("- warning \(field ?? "*") \(rule ?? "*")")
                    for a in actual { diff.append("+ warning \(a.field) \(a.rule)") }
                }
            }
        }
        return .success(CaseResult(name: name, line: node.position.line, passed: diff.isEmpty, diff: diff))
    }

    /// Compares one expected record (`{resource, identity?, fields}`) with the produced one.
    private func compare(_ expected: JSONNode, _ actual: CanonicalRecord, index: Int) -> [String] {
        var diff: [String] = []
        let label = "record \(index + 1)"
        if let r = expected["resource"]?.stringValue, r != actual.resource {
            diff.append("- \(label).resource: \(r)")
            diff.append("+ \(label).resource: \(actual.resource)")
        }
        if let identity = expected["identity"]?.members {
            for m in identity {
                let want = m.value.value.scalarText
                if actual.identity[m.key] != want {
                    diff.append("- \(label).identity.\(m.key): \(want ?? "null")")
                    diff.append("+ \(label).identity.\(m.key): \(actual.identity[m.key] ?? "(none)")")
                }
            }
        }
        let expectedFields = expected["fields"]?.members ?? []
        var seen = Set<String>()
        for m in expectedFields {
            seen.insert(m.key)
            let want = m.value.value.scalarText
            let got = actual[m.key]?.text
            if want != got {
                diff.append("- \(label).\(m.key): \(want ?? "null")")
                diff.append("+ \(label).\(m.key): \(got ?? "(missing)")")
            }
        }
        for f in actual.fields where !seen.contains(f.name) {
            diff.append("+ \(label).\(f.name): \(f.value.text) (not expected)")
        }
        return diff
    }
}

extension JSONValue {
    /// Scalar as text (numbers keep their literal, booleans `true`/`false`).
    var scalarText: String? {
        switch self {
        case .string(let s): s
        case .number(let n): n
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }
}
