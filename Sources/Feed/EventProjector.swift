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
    public func project(_ change: ParsedChange) throws -> ProjectedEvent? {
        let e = change
        guard let resource = scope.resources[e.resource], let record = change.record else { return nil }
        var entered = false
        if !scope.area.isEmpty {
            let areaChanged = e.changedFields.contains { resource.areaFields.contains($0) }
            let now = inArea(record, resource)
            if !now {
                guard areaChanged, e.operation != "created", e.version > 1,
                      let previous = try previousRecord(e.resource, e.entityID, e.version - 1),
                      inArea(previous, resource) else { return nil }
                return removal(e, resource)
            }
            if areaChanged && e.operation != "created" && e.version > 1 {
                let previous = try previousRecord(e.resource, e.entityID, e.version - 1)
                entered = previous.map { !inArea($0, resource) } ?? false
            }
        }
        let changed = e.changedFields.filter { resource.discloses($0) }
        if changed.isEmpty && !entered && e.operation == "updated" { return nil }
        let (recordJSON, disclosed) = render(record, resource)
        var data = JSONBuilder(capacity: recordJSON.utf8.count + 256)
        data.string("resource", e.resource)
        data.string("entity_id", e.entityID)
        data.number("version", e.version)
        data.string("operation", e.operation)
        data.strings("changed_fields", changed)
        if entered { data.string("area_change", "entered") }
        data.raw("record", recordJSON)
        data.raw("sources", sources(change.sources, resource))
        return ProjectedEvent(position: e.position, entityID: e.entityID, operation: e.operation, disclosedFields: disclosed,
                              json: envelope(e, resource, type: e.operation, data: data))
    }

    /// The record of a golden entity as this subscriber sees it (snapshot rows), with the fields it discloses.
    public func render(_ record: JSONObject, resource: String) -> (json: String, fields: [String])? {
        guard let r = scope.resources[resource] else { return nil }
        return render(record, r)
    }

    /// Whether a record is inside the subscription's area.
    public func inArea(_ record: JSONObject, resource: String) -> Bool {
        guard let r = scope.resources[resource] else { return false }
        return inArea(record, r)
    }

    private func inArea(_ record: JSONObject, _ resource: SubscriptionScope.ResourceScope) -> Bool {
        if scope.area.isEmpty { return true }
        for name in resource.areaFields {
            if let code = record[name]?.stringValue, scope.inArea(code) { return true }
        }
        return false
    }

    private func removal(_ e: ParsedChange, _ resource: SubscriptionScope.ResourceScope) -> ProjectedEvent {
        var data = JSONBuilder()
        data.string("resource", e.resource)
        data.string("entity_id", e.entityID)
        data.number("version", e.version)
        data.string("operation", "removed")
        data.strings("changed_fields", [])
        data.string("area_change", "left")
        data.raw("record", "null")
        data.raw("sources", "[]")
        return ProjectedEvent(position: e.position, entityID: e.entityID, operation: "removed", disclosedFields: [],
                              json: envelope(e, resource, type: "removed", data: data))
    }

    private func envelope(_ e: ParsedChange, _ resource: SubscriptionScope.ResourceScope, type: String, data: JSONBuilder) -> String {
        var w = JSONBuilder(capacity: data.bytes.count + 256)
        w.string("specversion", "1.0")
        w.string("id", String(e.position))
        w.string("source", Self.source)
        w.string("type", "org.recordonce." + resource.typeName + "." + type)
        w.string("subject", e.resource + "/" + e.entityID)
        w.string("time", Timestamp.iso8601(e.time))
        w.string("datacontenttype", "application/json")
        w.object("data", data)
        return w.json
    }

    /// Writes into one byte buffer (values through `writeJSON`, no String per value): this runs
    /// for every field of every event a subscriber catches up on.
    private func render(_ record: JSONObject, _ resource: SubscriptionScope.ResourceScope) -> (json: String, fields: [String]) {
        var out: [UInt8] = []
        out.reserveCapacity(512)
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
        return (String(decoding: out, as: UTF8.self), fields)
    }

    private func sources(_ list: [JSONValue], _ resource: SubscriptionScope.ResourceScope) -> String {
        var out = "["
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
            if !first { out += "," }
            first = false
            out += w.json
        }
        return out + "]"
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
