import Foundation
import SourceFormats

/// What a mapping does to a sample: records read, accepted, rejected and skipped; rejections and
/// warnings grouped by field and rule with example positions; per canonical field the share of
/// records that filled it; the code distribution of every code field. Values are masked unless
/// `showValues` is set.
public struct DryRunReport: Sendable {
    public var sample: String
    public var read = 0
    public var accepted = 0
    public var rejected = 0
    public var skipped = 0
    /// Records the reader could not deliver (ragged rows, bad lines, encoding), grouped by kind.
    public var sourceErrors: [Group] = []
    public var rejections: [Group] = []
    public var warnings: [Group] = []
    /// Per resource: how many canonical records, and per field how many filled it.
    public var fill: [ResourceFill] = []
    /// `Resource.field` -> code -> count, for code fields.
    public var codes: [String: [String: Int]] = [:]
    public var showValues: Bool

    /// Issues of one field and rule.
    public struct Group: Sendable {
        public var field: String
        public var rule: String
        public var message: String
        public var count: Int
        /// A few source positions (and, masked unless asked, the values).
        public var examples: [String]
    }

    public struct ResourceFill: Sendable {
        public var resource: String
        public var records: Int
        public var fields: [(name: String, filled: Int)]
    }

    static let exampleLimit = 3

    /// Reads the whole sample through the plan.
    public static func run(plan: MappingPlan, reader: any SourceRecordReader, sample: String, showValues: Bool = false) -> DryRunReport {
        var report = DryRunReport(sample: sample, showValues: showValues)
        var groups: [String: Int] = [:]
        var warningGroups: [String: Int] = [:]
        var sourceGroups: [String: Int] = [:]
        var fillIndex: [String: Int] = [:]
        var fieldCounts: [String: [String: Int]] = [:]
        let fieldOrder: [String: [String]] = Dictionary(plan.outputs.map { ($0.resource, $0.fields.map(\.name)) }, uniquingKeysWith: { a, b in a + b.filter { !a.contains($0) } })
        let codeFields: Set<String> = Set(plan.outputs.flatMap { o in o.fields.compactMap { f in if case .code = f.type { "\(o.resource).\(f.name)" } else { nil } } })

        func add(_ issue: MappingIssue, to list: inout [Group], index: inout [String: Int]) {
            let key = issue.field + "|" + issue.rule
            var example = issue.locator.description
            if let value = issue.value { example += " value=\(showValues ? value : ValueMasking.mask(value))" }
            if let i = index[key] {
                list[i].count += 1
                if list[i].examples.count < exampleLimit { list[i].examples.append(example) }
            } else {
                index[key] = list.count
                list.append(Group(field: issue.field, rule: issue.rule, message: issue.message, count: 1, examples: [example]))
            }
        }

        while let item = reader.next() {
            switch item {
            case .error(let error):
                report.read += 1
                report.rejected += 1
                let key = error.kind.rawValue
                if let i = sourceGroups[key] {
                    report.sourceErrors[i].count += 1
                    if report.sourceErrors[i].examples.count < exampleLimit { report.sourceErrors[i].examples.append(error.description) }
                } else {
                    sourceGroups[key] = report.sourceErrors.count
                    report.sourceErrors.append(Group(field: "record", rule: key, message: error.message, count: 1, examples: [error.description]))
                }
            case .record(let record):
                report.read += 1
                // What the hub refuses before mapping (a value the database cannot hold), as a push would.
                let unstorable = ValueLimits.standard.problems(in: record)
                if !unstorable.isEmpty {
                    report.rejected += 1
                    for p in unstorable {
                        add(MappingIssue(locator: record.locator, field: p.field, rule: p.rule.rawValue, message: p.message, severity: .error),
                            to: &report.rejections, index: &groups)
                    }
                    continue
                }
                let result = plan.apply(record)
                if result.skipped { report.skipped += 1; continue }
                for issue in result.issues {
                    if issue.severity == .error { add(issue, to: &report.rejections, index: &groups) }
                    else { add(issue, to: &report.warnings, index: &warningGroups) }
                }
                if result.rejected { report.rejected += 1; continue }
                report.accepted += 1
                for canonical in result.records {
                    if fillIndex[canonical.resource] == nil {
                        fillIndex[canonical.resource] = report.fill.count
                        report.fill.append(ResourceFill(resource: canonical.resource, records: 0, fields: []))
                    }
                    report.fill[fillIndex[canonical.resource]!].records += 1
                    for f in canonical.fields {
                        fieldCounts[canonical.resource, default: [:]][f.name, default: 0] += 1
                        let label = "\(canonical.resource).\(f.name)"
                        if codeFields.contains(label) { report.codes[label, default: [:]][f.value.text, default: 0] += 1 }
                    }
                }
            }
        }
        for i in report.fill.indices {
            let resource = report.fill[i].resource
            report.fill[i].fields = (fieldOrder[resource] ?? []).map { ($0, fieldCounts[resource]?[$0] ?? 0) }
        }
        report.rejections.sort { $0.count > $1.count }
        report.warnings.sort { $0.count > $1.count }
        return report
    }

    /// The report as text for a terminal.
    public func text() -> String {
        var out = "Dry run over \(sample)\n"
        out += "  records read: \(read), accepted: \(accepted), rejected: \(rejected), skipped: \(skipped)\n"
        func groups(_ title: String, _ list: [Group]) {
            guard !list.isEmpty else { return }
            out += "\n\(title):\n"
            for g in list {
                out += "  \(g.count) x \(g.field) [\(g.rule)]: \(g.message)\n"
                for e in g.examples { out += "      at \(e)\n" }
            }
        }
        groups("Unreadable records", sourceErrors)
        groups("Rejections by field and rule", rejections)
        groups("Warnings by field and rule", warnings)
        if !fill.isEmpty {
            out += "\nField fill (share of canonical records with a value):\n"
            for r in fill {
                out += "  \(r.resource) (\(r.records) records)\n"
                for f in r.fields {
                    let share = r.records == 0 ? 0 : Double(f.filled) * 100 / Double(r.records)
                    out += "    \(f.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(String(format: "%5.1f%%", share))  (\(f.filled))\n"
                }
            }
        }
        if !codes.isEmpty {
            out += "\nCode distribution:\n"
            for field in codes.keys.sorted() {
                let entries = codes[field]!.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
                out += "  \(field): " + entries.map { "\($0.key)=\($0.value)" }.joined(separator: " ") + "\n"
            }
        }
        if !showValues { out += "\n(values masked; --show-values shows them)\n" }
        return out
    }

    /// The report as JSON (keys in a fixed order).
    public func json() -> String {
        var out = "{\"sample\":"
        JSONStringEscaper.append(sample, to: &out)
        out += ",\"read\":\(read),\"accepted\":\(accepted),\"rejected\":\(rejected),\"skipped\":\(skipped)"
        func groups(_ name: String, _ list: [Group]) {
            out += ",\"\(name)\":["
            for (i, g) in list.enumerated() {
                if i > 0 { out += "," }
                out += "{\"field\":"; JSONStringEscaper.append(g.field, to: &out)
                out += ",\"rule\":"; JSONStringEscaper.append(g.rule, to: &out)
                out += ",\"message\":"; JSONStringEscaper.append(g.message, to: &out)
                out += ",\"count\":\(g.count),\"examples\":["
                for (j, e) in g.examples.enumerated() { if j > 0 { out += "," }; JSONStringEscaper.append(e, to: &out) }
                out += "]}"
            }
            out += "]"
        }
        groups("sourceErrors", sourceErrors)
        groups("rejections", rejections)
        groups("warnings", warnings)
        out += ",\"fill\":{"
        for (i, r) in fill.enumerated() {
            if i > 0 { out += "," }
            JSONStringEscaper.append(r.resource, to: &out)
            out += ":{\"records\":\(r.records),\"fields\":{"
            for (j, f) in r.fields.enumerated() {
                if j > 0 { out += "," }
                JSONStringEscaper.append(f.name, to: &out)
                out += ":\(f.filled)"
            }
            out += "}}"
        }
        out += "},\"codes\":{"
        for (i, field) in codes.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONStringEscaper.append(field, to: &out)
            out += ":{"
            for (j, code) in codes[field]!.keys.sorted().enumerated() {
                if j > 0 { out += "," }
                JSONStringEscaper.append(code, to: &out)
                out += ":\(codes[field]![code]!)"
            }
            out += "}"
        }
        return out + "}}"
    }
}
