import Foundation
import SourceFormats

/// One transform step, compiled (regexes built, crosswalks turned into dictionaries).
enum CompiledStep: @unchecked Sendable {
    case trim, foldWidth, upper, lower, removeSpaces
    case regex(NSRegularExpression, group: Int)
    case split(separator: String, index: Int)
    case join
    case replace(from: String, to: String)
    case pad(length: Int, with: Character)
    case prefix(String)
    case suffix(String)
    case date([DatePattern])
    case crosswalk(ByteKeyedTable<String>, name: String)
    case identifier(IdentifierNormalizer)
    case boolean(trueWords: Set<String>, falseWords: Set<String>)
}

/// How the final text becomes a typed canonical value.
enum CompiledType {
    case string
    case code(ByteKeyedTable<Bool>, table: String)
    case date
    case datetime
    case integer
    case decimal
    case boolean
}

/// One canonical field of an output, compiled. A class: the per-record loop then retains one
/// reference instead of copying a dozen.
final class CompiledField: @unchecked Sendable {
    let name: String
    /// `Resource.field`, for issues.
    let label: String
    let sources: [SourcePath]
    let sourceLabel: String?
    let separator: String
    let constant: String?
    let defaultValue: String?
    let steps: [CompiledStep]
    let joinSeparator: String?
    let skipWhen: CompiledCondition?
    let type: CompiledType
    /// The catalog's identifier rule for this field, applied after the transforms.
    let identifierRule: IdentifierNormalizer?
    let isIdentity: Bool
    let required: Bool
    let rejectOnInvalid: Bool
    let currentYear: Int
    /// An explicit `identifier` step already applied the rule: do not apply the catalog's again.
    let appliesIdentifierStep: Bool

    init(name: String, label: String, sources: [SourcePath], sourceLabel: String?, separator: String, constant: String?,
         defaultValue: String?, steps: [CompiledStep], joinSeparator: String?, skipWhen: CompiledCondition?, type: CompiledType,
         identifierRule: IdentifierNormalizer?, isIdentity: Bool, required: Bool, rejectOnInvalid: Bool, currentYear: Int) {
        self.name = name
        self.label = label
        self.sources = sources
        self.sourceLabel = sourceLabel
        self.separator = separator
        self.constant = constant
        self.defaultValue = defaultValue
        self.steps = steps
        self.joinSeparator = joinSeparator
        self.skipWhen = skipWhen
        self.type = type
        self.identifierRule = identifierRule
        self.isIdentity = isIdentity
        self.required = required
        self.rejectOnInvalid = rejectOnInvalid
        self.currentYear = currentYear
        appliesIdentifierStep = steps.contains { if case .identifier = $0 { true } else { false } }
    }

    /// A problem with a field's value; a class so that passing an evaluation around copies one reference.
    final class Problem {
        let rule: String
        let message: String
        let raw: String
        init(_ rule: String, _ message: String, _ raw: String) {
            self.rule = rule
            self.message = message
            self.raw = raw
        }
    }

    enum Evaluation {
        case missing
        case value(CanonicalValue)
        case warning(CanonicalValue, Problem)
        case invalid(Problem)
    }

    func issue(_ record: SourceRecord, _ rule: String, _ message: String, _ severity: MappingIssue.Severity, _ raw: String?) -> MappingIssue {
        MappingIssue(locator: record.locator, field: label, sourcePath: sourceLabel, rule: rule, message: message, severity: severity, value: raw)
    }

    /// Reads, transforms and normalizes the field's value.
    func evaluate(_ scope: RecordScope, rules: any MappingRules) -> Evaluation {
        if let skipWhen, skipWhen.holds(scope) { return .missing }
        var text: String
        if let constant {
            text = constant
        } else {
            // An empty source value is a missing one: no transform runs on it.
            guard let gathered = gather(scope), !gathered.isEmpty else { return fallback(rules) }
            text = gathered
        }
        let raw = text
        var warning: (String, String)?
        for i in steps.indices {
            switch apply(stepAt: i, to: text, rules: rules) {
            case .text(let t): text = t
            case .missing: return fallback(rules)
            case .invalid(let rule, let message): return .invalid(Problem(rule, message, raw))
            case .warning(let t, let rule, let message): text = t; warning = (rule, message)
            }
        }
        if TextOps.isBlank(text) { return fallback(rules) }
        let outcome = normalize(text, rules: rules, appliedRule: appliesIdentifierStep)
        switch outcome {
        case .value(let v):
            if let warning { return .warning(v, Problem(warning.0, warning.1, raw)) }
            return .value(v)
        case .warning(let v, let rule, let message): return .warning(v, Problem(rule, message, raw))
        case .invalid(let rule, let message): return .invalid(Problem(rule, message, raw))
        }
    }

    private func fallback(_ rules: any MappingRules) -> Evaluation {
        guard let defaultValue else { return .missing }
        switch normalize(defaultValue, rules: rules, appliedRule: false) {
        case .value(let v): return .value(v)
        case .warning(let v, let rule, let message): return .warning(v, Problem(rule, message, defaultValue))
        case .invalid(let rule, let message): return .invalid(Problem(rule, message, defaultValue))
        }
    }

    /// The source text: one path, or several concatenated with the separator (missing parts skipped).
    @inline(__always)
    private func gather(_ scope: RecordScope) -> String? {
        if sources.count == 1 { return scalar(sources[0].resolve(scope)) }
        var parts: [String] = []
        for path in sources {
            if let t = scalar(path.resolve(scope)), !t.isEmpty { parts.append(t) }
        }
        return parts.isEmpty ? nil : parts.joined(separator: separator)
    }

    @inline(__always)
    private func scalar(_ value: SourceValue?) -> String? {
        guard let value else { return nil }
        switch value {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .null: return nil
        case .array(let items):
            let texts = items.compactMap(\.scalarText)
            if texts.isEmpty { return nil }
            return texts.joined(separator: joinSeparator ?? ",")
        case .object(let o):
            // An XML element with attributes keeps its text under `#text`.
            return o["#text"]?.scalarText
        }
    }

    enum StepResult {
        case text(String)
        case missing
        case warning(String, rule: String, message: String)
        case invalid(rule: String, message: String)
    }

    /// Applies step `i`, switching on the array element in place (no copy of the whole step).
    private func apply(stepAt i: Int, to text: String, rules: any MappingRules) -> StepResult {
        switch steps[i] {
        case .trim: return .text(TextOps.trim(text))
        case .foldWidth: return .text(TextOps.needsWidthFolding(text) ? rules.foldWidth(text) : TextOps.trim(text))
        case .upper: return .text(TextOps.upper(text))
        case .lower: return .text(TextOps.lower(text))
        case .removeSpaces: return .text(TextOps.removeSpaces(text))
        case .regex(let regex, let group):
            let range = NSRange(text.startIndex..., in: text)
            guard let match = regex.firstMatch(in: text, range: range), group < match.numberOfRanges,
                  let r = Range(match.range(at: group), in: text) else { return .missing }
            return .text(String(text[r]))
        case .split(let separator, let index):
            guard let part = TextOps.split(text, separator: separator, index: index) else { return .missing }
            return .text(part)
        case .join: return .text(text)
        case .replace(let from, let to): return .text(text.replacingOccurrences(of: from, with: to))
        case .pad(let length, let c): return .text(TextOps.pad(text, length: length, with: c))
        case .prefix(let p): return .text(p + text)
        case .suffix(let s): return .text(text + s)
        case .date(let patterns):
            for p in patterns { if let d = p.parse(text, currentYear: currentYear) { return .text(d) } }
            return .text(text)
        case .crosswalk(let table, let name):
            if let code = table[text] { return .text(code) }
            let trimmed = TextOps.trim(text)
            if trimmed.utf8.count != text.utf8.count, let code = table[trimmed] { return .text(code) }
            if trimmed.isEmpty { return .missing }
            return .invalid(rule: "crosswalk.unknown", message: "value is not in crosswalk '\(name)'")
        case .identifier(let normalizer):
            switch normalizer(text) {
            case .valid(let v): return .text(v)
            case .warning(let v, let r, let m): return .warning(v, rule: r, message: m)
            case .invalid(let r, let m): return .invalid(rule: r, message: m)
            }
        case .boolean(let t, let f):
            if t.contains(text) { return .text("true") }
            if f.contains(text) { return .text("false") }
            return .invalid(rule: "boolean.invalid", message: "value is not one of the configured true/false words")
        }
    }

    private func normalize(_ text: String, rules: any MappingRules, appliedRule: Bool) -> ValueNormalizer.Outcome {
        var text = text
        var warning: (String, String)?
        if let identifierRule, !appliedRule {
            switch identifierRule(text) {
            case .valid(let v): text = v
            case .warning(let v, let r, let m): text = v; warning = (r, m)
            case .invalid(let r, let m): return .invalid(rule: r, message: m)
            }
        }
        let value: CanonicalValue
        switch type {
        case .string: value = .string(text)
        case .code(let codes, let table):
            if codes.contains(text) {
                value = .code(text)
            } else if let code = rules.normalizeCode(table: table, text), codes.contains(code) {
                value = .code(code)
            } else {
                return .invalid(rule: "code.unknown", message: "value is not a code of table '\(table)'")
            }
        case .date:
            if DateMath.isCanonical(text) { value = .date(text) } else {
                switch rules.normalizeDate(text) {
                case .valid(let d): value = .date(d)
                case .warning(let d, let r, let m): value = .date(d); warning = (r, m)
                case .invalid(let r, let m): return .invalid(rule: r, message: m)
                }
            }
        case .datetime:
            switch rules.normalizeDateTime(text) {
            case .valid(let d): value = .datetime(d)
            case .warning(let d, let r, let m): value = .datetime(d); warning = (r, m)
            case .invalid(let r, let m): return .invalid(rule: r, message: m)
            }
        case .integer:
            guard let n = ValueNormalizer.integer(text) else { return .invalid(rule: "integer.invalid", message: "value is not a whole number") }
            value = .integer(n)
        case .decimal:
            guard let n = ValueNormalizer.decimal(text) else { return .invalid(rule: "decimal.invalid", message: "value is not a decimal number") }
            value = .decimal(n)
        case .boolean:
            guard let b = ValueNormalizer.boolean(text) else { return .invalid(rule: "boolean.invalid", message: "value is not a yes/no value") }
            value = .boolean(b)
        }
        if let warning { return .warning(value, rule: warning.0, message: warning.1) }
        return .value(value)
    }
}
