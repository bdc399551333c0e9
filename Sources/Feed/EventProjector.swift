import Catalog
import JSON5
import Store
import Telemetry

/// Turns change events into what one subscriber may see: resource, area and field filters,
/// masking policies, and the CloudEvents 1.0 envelope.
///
/// Rules, in order:
/// 1. An event of a resource outside the subscription is not sent.
/// 2. With an area, a record is in it when one of its division fields starts with an area
///    prefix. A record outside the area is not sent, except once as a `removed` event when this
///    change moved it out: the area fields changed and the previous version (looked up through
///    `previousRecord`, which reads the entity's history) was inside.
/// 3. An event whose changed fields are all outside what the subscriber sees is not sent, unless
///    it brought the record into the area (then it is sent whole).
/// 4. The record keeps only granted fields, each under its policy; fields unknown to the catalog
///    are dropped. Sources keep department, adapter, mapping and time, and only visible field
///    names; their source keys (which may be ID numbers) are never sent.
public struct EventProjector: Sendable {
    /// The source attribute of every CloudEvent.
    public static let source = "/recordonce/feed"

    public let scope: SubscriptionScope
    /// The record of the previous version of an entity (nil when there is none).
    public typealias PreviousRecord = @Sendable (_ resource: String, _ entityID: String, _ version: Int) throws -> JSONObject?
    let previousRecord: PreviousRecord

    public init(scope: SubscriptionScope, previousRecord: @escaping PreviousRecord) {
        self.scope = scope
        self.previousRecord = previousRecord
    }

    /// The event as this subscriber sees it, or nil when it must not be sent.
    ///
    /// The record is written from its JSON bytes (`RecordText`) when the change has them indexed,
    /// through the parsed `JSONObject` otherwise; both give the same bytes.
    public func project(_ change: ParsedChange) throws -> ProjectedEvent? {
        var memo = ProjectionMemo()
        return try project(change, memo: &memo)
    }

    /// `project(_:)` for a run of events, reusing what the previous event of the run worked out
    /// (see `ProjectionMemo`); the same answer for each event.
    public func project(_ change: ParsedChange, memo: inout ProjectionMemo) throws -> ProjectedEvent? {
        guard let resource = scope.resources[change.resource] else { return nil }
        if let text = change.text { return try project(change, .text(text), resource, &memo) }
        guard let record = change.parsedRecord else { return nil }
        return try project(change, .object(record), resource, &memo)
    }

    /// The record of a change, indexed bytes or parsed.
    enum RecordView {
        case text(RecordText)
        case object(JSONObject)

        func string(_ key: String) -> String? {
            switch self {
            case .text(let t): return t.string(key)
            case .object(let o): return o[key]?.stringValue
            }
        }
    }

    private func project(_ e: ParsedChange, _ record: RecordView, _ resource: SubscriptionScope.ResourceScope,
                         _ memo: inout ProjectionMemo) throws -> ProjectedEvent? {
        var entered = false
        if !scope.area.isEmpty {
            let areaChanged = e.changedFields.contains { resource.areaFields.contains($0) }
            let now = inArea(record, resource)
            if !now {
                guard areaChanged, e.operation != "created", e.version > 1,
                      let previous = try previousRecord(e.resource, e.entityID, e.version - 1),
                      inArea(.object(previous), resource) else { return nil }
                return removal(e, resource)
            }
            if areaChanged && e.operation != "created" && e.version > 1 {
                let previous = try previousRecord(e.resource, e.entityID, e.version - 1)
                entered = previous.map { !inArea(.object($0), resource) } ?? false
            }
        }
        let changed = memo.visible(e.changedFields, of: resource)
        if changed.isEmpty && !entered && e.operation == "updated" { return nil }
        var out: [UInt8] = []
        let recordSize: Int
        switch record {
        case .text(let t): recordSize = t.bytes.count
        case .object: recordSize = 512
        }
        out.reserveCapacity(recordSize + 512)
        var disclosed: [String] = []
        envelope(e, resource, type: e.operation, into: &out) { out in
            Self.member("resource", first: true, &out); JSONBuilder.quote(e.resource, into: &out)
            Self.member("entity_id", &out); JSONBuilder.quote(e.entityID, into: &out)
            Self.member("version", &out); out.append(contentsOf: String(e.version).utf8)
            Self.member("operation", &out); JSONBuilder.quote(e.operation, into: &out)
            Self.member("changed_fields", &out); Self.strings(changed, &out)
            if entered { Self.member("area_change", &out); out.append(contentsOf: "\"entered\"".utf8) }
            Self.member("record", &out)
            switch record {
            case .text(let t): disclosed = render(t, resource, into: &out, after: &memo)
            case .object(let o): disclosed = memo.shared(render(o, resource, into: &out))
            }
            Self.member("sources", &out)
            sources(e.sources, resource, into: &out)
        }
        return ProjectedEvent(position: e.position, entityID: e.entityID, operation: e.operation, disclosedFields: disclosed,
                              bytes: out)
    }

    /// The record of a golden entity as this subscriber sees it (snapshot rows), with the fields it discloses.
    public func render(_ record: JSONObject, resource: String) -> (json: String, fields: [String])? {
        guard let r = scope.resources[resource] else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(512)
        let fields = render(record, r, into: &out)
        return (String(decoding: out, as: UTF8.self), fields)
    }

    /// Whether a record is inside the subscription's area.
    public func inArea(_ record: JSONObject, resource: String) -> Bool {
        guard let r = scope.resources[resource] else { return false }
        return inArea(.object(record), r)
    }

    private func inArea(_ record: RecordView, _ resource: SubscriptionScope.ResourceScope) -> Bool {
        if scope.area.isEmpty { return true }
        for name in resource.areaFields {
            if let code = record.string(name), scope.inArea(code) { return true }
        }
        return false
    }

    private func removal(_ e: ParsedChange, _ resource: SubscriptionScope.ResourceScope) -> ProjectedEvent {
        var out: [UInt8] = []
        out.reserveCapacity(512)
        envelope(e, resource, type: "removed", into: &out) { out in
            Self.member("resource", first: true, &out); JSONBuilder.quote(e.resource, into: &out)
            Self.member("entity_id", &out); JSONBuilder.quote(e.entityID, into: &out)
            Self.member("version", &out); out.append(contentsOf: String(e.version).utf8)
            Self.member("operation", &out); out.append(contentsOf: "\"removed\"".utf8)
            Self.member("changed_fields", &out); out.append(contentsOf: "[]".utf8)
            Self.member("area_change", &out); out.append(contentsOf: "\"left\"".utf8)
            Self.member("record", &out); out.append(contentsOf: "null".utf8)
            Self.member("sources", &out); out.append(contentsOf: "[]".utf8)
        }
        return ProjectedEvent(position: e.position, entityID: e.entityID, operation: "removed", disclosedFields: [], bytes: out)
    }

    /// `,"name":` (no comma before the first member). Names are plain ASCII.
    private static func member(_ name: StaticString, first: Bool = false, _ out: inout [UInt8]) {
        if !first { out.append(UInt8(ascii: ",")) }
        out.append(0x22)
        out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
        out.append(0x22)
        out.append(UInt8(ascii: ":"))
    }

    private static func strings(_ values: [String], _ out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, v) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONBuilder.quote(v, into: &out)
        }
        out.append(UInt8(ascii: "]"))
    }

    /// The CloudEvents envelope around the data object that `data` writes (its members only),
    /// straight into `out`: the same bytes the `JSONBuilder` envelope wrote.
    private func envelope(_ e: ParsedChange, _ resource: SubscriptionScope.ResourceScope, type: String, into out: inout [UInt8],
                          data: (inout [UInt8]) -> Void) {
        out.append(contentsOf: "{\"specversion\":\"1.0\",\"id\":\"".utf8)
        out.append(contentsOf: String(e.position).utf8)
        out.append(contentsOf: "\",\"source\":".utf8)
        JSONBuilder.quote(Self.source, into: &out)
        out.append(contentsOf: ",\"type\":\"org.recordonce.".utf8)
        out.append(contentsOf: resource.typeSegment)
        JSONBuilder.quoteContent(type, into: &out)
        out.append(contentsOf: "\",\"subject\":\"".utf8)
        // The scope was looked up by the event's resource: its name is `e.resource`.
        out.append(contentsOf: resource.subjectPrefix)
        JSONBuilder.quoteContent(e.entityID, into: &out)
        out.append(contentsOf: "\",\"time\":".utf8)
        JSONBuilder.quote(e.isoTime, into: &out)
        out.append(contentsOf: ",\"datacontenttype\":\"application/json\",\"data\":{".utf8)
        data(&out)
        out.append(contentsOf: "}}".utf8)
    }

    /// The record as this subscriber sees it, from the record's bytes: plain values copied as
    /// they are, masked and pseudonymized ones decoded (see `RecordText`). Returns the fields
    /// written.
    private func render(_ t: RecordText, _ resource: SubscriptionScope.ResourceScope, into out: inout [UInt8],
                        after memo: inout ProjectionMemo) -> [String] {
        out.append(UInt8(ascii: "{"))
        var fields = DisclosedFields(previous: memo.disclosed)
        let byBytes = resource.table.isASCII
        t.bytes.withUnsafeBytes { b in
            for member in t.members {
                // An ASCII key is looked up by its bytes; any other by its String, as before
                // (Strings compare by canonical equivalence).
                let policy: FieldPolicy, masking: MaskingHint?, type: FieldType, name: String
                if member.keyIsASCII && byBytes {
                    guard let rule = resource.table.rule(UnsafeRawBufferPointer(rebasing: b[member.keyStart..<member.keyEnd])) else { continue }
                    (policy, masking, type, name) = (rule.policy, rule.masking, rule.type, rule.name)
                } else {
                    let key = t.key(member)
                    guard let (p, field) = resource.policies[key], p != .omitted else { continue }
                    (policy, masking, type, name) = (p, field.masking, field.type, key)
                }
                if !fields.isEmpty { out.append(UInt8(ascii: ",")) }
                if member.keyIsASCII {
                    out.append(0x22)
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[member.keyStart..<member.keyEnd]))
                    out.append(0x22)
                } else {
                    JSONBuilder.quote(name, into: &out)
                }
                out.append(UInt8(ascii: ":"))
                switch (policy, member.value) {
                case (_, .null): out.append(contentsOf: "null".utf8)
                case (.plain, .plainString(let s, let e)):
                    out.append(0x22)
                    out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[s..<e]))
                    out.append(0x22)
                case (.plain, .literal(let s, let e)): out.append(contentsOf: UnsafeRawBufferPointer(rebasing: b[s..<e]))
                case (.plain, let v): t.jsonValue(v).writeJSON(to: &out)
                case (.masked, .plainString(let s, let e)), (.masked, .literal(let s, let e)):
                    ValueMasking.appendMasked(UnsafeRawBufferPointer(rebasing: b[s..<e]), hint: masking, type: type, into: &out)
                case (.masked, let v):
                    JSONBuilder.quote(ValueMasking.mask(Self.text(of: t.jsonValue(v)), hint: masking, type: type), into: &out)
                case (.pseudonymized, .plainString(let s, let e)), (.pseudonymized, .literal(let s, let e)):
                    ValueMasking.appendPseudonym(UnsafeRawBufferPointer(rebasing: b[s..<e]), key: scope.pseudonymKey, into: &out)
                case (.pseudonymized, let v):
                    JSONBuilder.quote(ValueMasking.pseudonym(Self.text(of: t.jsonValue(v)), key: scope.pseudonymKey), into: &out)
                case (.omitted, _): continue
                }
                fields.append(name)
            }
        }
        out.append(UInt8(ascii: "}"))
        let list = fields.list
        memo.disclosed = list
        return list
    }

    /// The record as this subscriber sees it, from the parsed record (snapshots, and records the
    /// index refuses). Returns the fields written.
    private func render(_ record: JSONObject, _ resource: SubscriptionScope.ResourceScope, into out: inout [UInt8]) -> [String] {
        out.append(UInt8(ascii: "{"))
        var fields: [String] = []
        fields.reserveCapacity(record.members.count)
        for member in record.members {
            guard let (policy, field) = resource.policies[member.key], policy != .omitted else { continue }
            if !fields.isEmpty { out.append(UInt8(ascii: ",")) }
            JSONBuilder.quote(member.key, into: &out)
            out.append(UInt8(ascii: ":"))
            switch (policy, member.value) {
            case (_, .null): out.append(contentsOf: "null".utf8)
            case (.plain, let v): v.writeJSON(to: &out)
            case (.masked, let v):
                JSONBuilder.quote(ValueMasking.mask(Self.text(of: v), hint: field.masking, type: field.type), into: &out)
            case (.pseudonymized, let v):
                JSONBuilder.quote(ValueMasking.pseudonym(Self.text(of: v), key: scope.pseudonymKey), into: &out)
            case (.omitted, _): continue
            }
            fields.append(member.key)
        }
        out.append(UInt8(ascii: "}"))
        return fields
    }

    private func sources(_ list: [JSONValue], _ resource: SubscriptionScope.ResourceScope, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        var first = true
        for source in list {
            guard case .object(let s) = source else { continue }
            let visible = (s["fields"]?.arrayValue ?? []).compactMap(\.stringValue).filter { resource.discloses($0) }
            if visible.isEmpty { continue }
            var w = JSONBuilder()
            for key in ["department", "adapter", "mapping", "mapping_version", "observed_at"] {
                if let v = s[key] { w.raw(key, v.jsonText()) }
            }
            w.strings("fields", visible)
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            out.append(contentsOf: w.bytes)
            out.append(UInt8(ascii: "}"))
        }
        out.append(UInt8(ascii: "]"))
    }

    private static func text(of value: JSONValue) -> String {
        switch value {
        case .string(let s): return s
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        default: return value.jsonText()
        }
    }
}

/// What one event of a run projected for one subscriber can hand to the next: events written
/// together share their changed-fields array (the change log reader decodes it once per run)
/// and mostly disclose the same fields. Catching up, working the visible changed fields out
/// again (a hash per field) and keeping a disclosed-fields array per event cost a few percent of
/// the hub's time. Only ever a shortcut to the same answer.
public struct ProjectionMemo {
    /// The changed-fields array last filtered and the resource scope it was filtered for (both
    /// held, so that neither's memory can be reused by another while compared by address), and
    /// the answer.
    private var changedInput: [String] = []
    private var changedScope: SubscriptionScope.ResourceScope?
    private var changedVisible: [String] = []
    /// The previous event's disclosed fields.
    fileprivate(set) var disclosed: [String] = []

    public init() {}

    /// `fields` less those the subscriber does not see, in order.
    mutating func visible(_ fields: [String], of resource: SubscriptionScope.ResourceScope) -> [String] {
        if changedScope === resource, !fields.isEmpty, fields.count == changedInput.count,
           fields.withUnsafeBufferPointer({ $0.baseAddress }) == changedInput.withUnsafeBufferPointer({ $0.baseAddress }) {
            return changedVisible
        }
        changedInput = fields
        changedScope = resource
        changedVisible = fields.filter { resource.discloses($0) }
        return changedVisible
    }

    /// `fields`, or the previous event's equal array (one array shared by a run of events; the
    /// audit entry compares them by identity first).
    mutating func shared(_ fields: [String]) -> [String] {
        if fields == disclosed { return disclosed }
        disclosed = fields
        return fields
    }
}

/// The fields one event discloses, in order, made without a new array while they are the
/// previous event's: most events of a run disclose the same fields.
struct DisclosedFields {
    private let previous: [String]
    /// How many leading fields agree with `previous` (while `own` is nil).
    private var matched = 0
    private var own: [String]?

    init(previous: [String]) { self.previous = previous }

    var isEmpty: Bool { own.map(\.isEmpty) ?? (matched == 0) }

    mutating func append(_ name: String) {
        if own == nil {
            if matched < previous.count && previous[matched] == name {
                matched += 1
                return
            }
            var copy = Array(previous[0..<matched])
            copy.reserveCapacity(matched + 16)
            own = copy
        }
        own!.append(name)
    }

    var list: [String] {
        if let own { return own }
        return matched == previous.count ? previous : Array(previous[0..<matched])
    }
}
