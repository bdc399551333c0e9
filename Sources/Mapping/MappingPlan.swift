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
    /// Root keys the plan reads -> slot in the per-record key index.
    let keySlots: ByteKeyedTable<Int>

    init(id: String, version: Int, source: SourceSpec, skip: CompiledCondition?, outputs: [CompiledOutput], rules: any MappingRules,
         keySlots: [String: Int]) {
        self.rules = rules
        self.keySlots = ByteKeyedTable(keySlots.map { ($0.key, $0.value) })
        self.id = id
        self.version = version
        self.source = source
        self.skip = skip
        self.outputs = outputs
    }

    /// The canonical fields the plan writes, as (resource, field) pairs in output order.
    public var targets: [(resource: String, field: String)] {
        outputs.flatMap { output in output.fields.map { (output.resource, $0.name) } }
    }

    /// The thresholds of the output for this resource when it is matchable (nil: not matchable).
    public func matchSettings(resource: String) -> MatchSettings? {
        outputs.first { $0.resource == resource && $0.matchable != nil }?.matchable
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
        // Index the root's keys once (one hash per key) so every field lookup is O(1).
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: max(keySlots.count, 1)) { slots in
            slots.initialize(repeating: -1)
            root.keys.withUnsafeBufferPointer { keys in
                for i in 0..<keys.count {
                    if let slot = keySlots[keys[i]], slots[slot] < 0 { slots[slot] = Int32(i) }
                }
            }
            let scope = RecordScope(object: root, root: root, objectIsRoot: true, slots: UnsafeBufferPointer(slots))
            return apply(record, scope)
        }
    }

    private func apply(_ record: SourceRecord, _ scope: RecordScope) -> MappingResult {
        if let skip, skip.holds(scope) { return MappingResult(skipped: true) }
        var result = MappingResult()
        for output in outputs {
            if let when = output.when, !when.holds(scope) { continue }
            if let each = output.each {
                guard let value = each.resolve(scope) else { continue }
                switch value {
                case .array(let items):
                    for item in items {
                        if case .object(let element) = item {
                            output.apply(RecordScope(object: element, root: scope.root, objectIsRoot: false, slots: scope.slots), record: record, plan: self, into: &result)
                        }
                    }
                case .object(let element):
                    output.apply(RecordScope(object: element, root: scope.root, objectIsRoot: false, slots: scope.slots), record: record, plan: self, into: &result)
                default:
                    result.issues.append(MappingIssue(locator: record.locator, field: output.resource, sourcePath: each.text,
                                                      rule: "each.not_list", message: "'each' path does not hold a list of objects", severity: .error))
                }
            } else {
                output.apply(scope, record: record, plan: self, into: &result)
            }
        }
        if result.rejected { result.records.removeAll() }
        return result
    }
}

/// One compiled output (one canonical resource per source record or per `each` element).
final class CompiledOutput: @unchecked Sendable {
    let resource: String
    let when: CompiledCondition?
    let each: SourcePath?
    let fields: [CompiledField]
    let identityKey: [String]
    let partial: Bool
    /// Set when a missing or invalid identity key sends the record to matching instead of rejecting it.
    var matchable: MatchSettings?

    init(resource: String, when: CompiledCondition?, each: SourcePath?, fields: [CompiledField], identityKey: [String], partial: Bool) {
        self.resource = resource
        self.when = when
        self.each = each
        self.fields = fields
        self.identityKey = identityKey
        self.partial = partial
    }

    func apply(_ scope: RecordScope, record: SourceRecord, plan: MappingPlan, into result: inout MappingResult) {
        var values: [CanonicalField] = []
        values.reserveCapacity(fields.count)
        var identity: [String: String] = Dictionary(minimumCapacity: identityKey.count)
        var failed = false
        let rules = plan.rules
        for field in fields {
            switch field.evaluate(scope, rules: rules) {
            case .missing:
                if field.isIdentity, matchable != nil {
                    result.issues.append(field.issue(record, "identity.matching", "identity key field has no value; the record goes to matching", .warning, nil))
                } else if field.isIdentity {
                    failed = true
                    result.issues.append(field.issue(record, "identity.missing", "identity key field has no value; the record cannot be matched", .error, nil))
                } else if field.required && !partial {
                    failed = true
                    result.issues.append(field.issue(record, "required.missing", "required field has no value", .error, nil))
                }
            case .value(let v):
                values.append(CanonicalField(field.name, v))
                if field.isIdentity { identity[field.name] = v.text }
            case .warning(let v, let problem):
                values.append(CanonicalField(field.name, v))
                if field.isIdentity { identity[field.name] = v.text }
                result.issues.append(field.issue(record, problem.rule, problem.message, .warning, problem.raw))
            case .invalid(let problem):
                if field.isIdentity, matchable != nil {
                    result.issues.append(field.issue(record, problem.rule, problem.message + "; the record goes to matching", .warning, problem.raw))
                } else if field.rejectOnInvalid {
                    failed = true
                    result.issues.append(field.issue(record, problem.rule, problem.message, .error, problem.raw))
                } else {
                    result.issues.append(field.issue(record, problem.rule, problem.message + "; field dropped", .warning, problem.raw))
                }
            }
        }
        if failed { return }
        result.records.append(CanonicalRecord(resource: resource, identity: identity, fields: values, sourceKey: record.sourceKey,
                                              mappingId: plan.id, mappingVersion: plan.version))
    }
}
