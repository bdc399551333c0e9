import Foundation
import SourceFormats

/// A mapping compiled against the catalog: apply it to each source record. Immutable and
/// thread-safe, so one plan can serve every import worker.
public final class MappingPlan: @unchecked Sendable {
    public let id: String
    public let version: Int
    public let source: SourceSpec
    let skip: CompiledCondition?
    let outputs: [CompiledOutput]
    let rules: any MappingRules

    init(id: String, version: Int, source: SourceSpec, skip: CompiledCondition?, outputs: [CompiledOutput], rules: any MappingRules) {
        self.rules = rules
        self.id = id
        self.version = version
        self.source = source
        self.skip = skip
        self.outputs = outputs
    }

    /// Compiles a mapping file's text; throws every problem at once.
    public static func compile(text: String, file: String, schema: MappingSchema) throws(MappingCompileError) -> MappingPlan {
        let (plan, problems) = MappingCompiler.compile(text: text, file: file, schema: schema)
        guard let plan, !problems.contains(where: { $0.severity == .error }) else { throw MappingCompileError(problems: problems) }
        return plan
    }

    /// Maps one source record to canonical records plus issues. Any error issue rejects the whole
    /// source record (a marriage with one bad ID updates neither person): `records` is then empty.
    public func apply(_ record: SourceRecord) -> MappingResult {
        let root = record.fields
        if let skip, skip.holds(in: root, root: root) { return MappingResult(skipped: true) }
        var result = MappingResult()
        for output in outputs {
            if let when = output.when, !when.holds(in: root, root: root) { continue }
            if let each = output.each {
                guard let value = each.resolve(in: root, root: root) else { continue }
                switch value {
                case .array(let items):
                    for item in items {
                        if case .object(let element) = item { output.apply(element, root: root, record: record, plan: self, into: &result) }
                    }
                case .object(let element):
                    output.apply(element, root: root, record: record, plan: self, into: &result)
                default:
                    result.issues.append(MappingIssue(locator: record.locator, field: output.resource, sourcePath: each.text,
                                                      rule: "each.not_list", message: "'each' path does not hold a list of objects", severity: .error))
                }
            } else {
                output.apply(root, root: root, record: record, plan: self, into: &result)
            }
        }
        if result.rejected { result.records.removeAll() }
        return result
    }
}

/// One compiled output (one canonical resource per source record or per `each` element).
struct CompiledOutput {
    let resource: String
    let when: CompiledCondition?
    let each: SourcePath?
    let fields: [CompiledField]
    let identityKey: [String]
    let partial: Bool

    func apply(_ object: SourceObject, root: SourceObject, record: SourceRecord, plan: MappingPlan, into result: inout MappingResult) {
        var values: [CanonicalField] = []
        values.reserveCapacity(fields.count)
        var identity: [String: String] = Dictionary(minimumCapacity: identityKey.count)
        var failed = false
        for field in fields {
            switch field.evaluate(object, root: root, rules: plan.rules) {
            case .missing:
                if field.isIdentity {
                    failed = true
                    result.issues.append(field.issue(record, "identity.missing", "identity key field has no value; the record cannot be matched", .error, nil))
                } else if field.required && !partial {
                    failed = true
                    result.issues.append(field.issue(record, "required.missing", "required field has no value", .error, nil))
                }
            case .value(let v):
                values.append(CanonicalField(field.name, v))
                if field.isIdentity { identity[field.name] = v.text }
            case .warning(let v, let rule, let message, let raw):
                values.append(CanonicalField(field.name, v))
                if field.isIdentity { identity[field.name] = v.text }
                result.issues.append(field.issue(record, rule, message, .warning, raw))
            case .invalid(let rule, let message, let raw):
                if field.rejectOnInvalid {
                    failed = true
                    result.issues.append(field.issue(record, rule, message, .error, raw))
                } else {
                    result.issues.append(field.issue(record, rule, message + "; field dropped", .warning, raw))
                }
            }
        }
        if failed { return }
        result.records.append(CanonicalRecord(resource: resource, identity: identity, fields: values, sourceKey: record.sourceKey,
                                              mappingId: plan.id, mappingVersion: plan.version))
    }
}
