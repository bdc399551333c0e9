import JSON5
import Mapping
import SourceFormats

/// Golden records as stored in `entities.record` and `entities.provenance` (jsonb), and the
/// JSON text of values, provenance and change-event sources.
///
/// Values are compared as JSON literals that always go through `JSONValue.jsonText()`, so a value
/// read back from jsonb and the same value fresh from a mapping compare equal.
enum GoldenRecordCodec {
    /// The JSON literal of a canonical value.
    static func literal(_ value: CanonicalValue) -> String {
        jsonValue(value).jsonText()
    }

    static func jsonValue(_ value: CanonicalValue) -> JSONValue {
        switch value {
        case .string(let s), .code(let s), .date(let s), .datetime(let s): .string(s)
        case .integer(let s), .decimal(let s): .number(s)
        case .boolean(let b): .bool(b)
        }
    }

    /// Reads a stored golden record back into fields with provenance.
    static func decode(record: String, provenance: String) throws -> [String: GoldenField] {
        guard case .object(let values) = try JSON5.parseJSON(record),
              case .object(let sources) = try JSON5.parseJSON(provenance) else { return [:] }
        var fields: [String: GoldenField] = [:]
        for member in values.members {
            let name = member.key, value = member.value
            guard case .object(let p)? = sources[name] else { continue }
            fields[name] = GoldenField(value: value.jsonText(), provenance: FieldProvenance(
                adapter: p["adapter"]?.stringValue ?? "",
                department: p["department"]?.stringValue ?? "",
                sourceKey: p["source_key"]?.stringValue ?? "",
                mappingID: p["mapping"]?.stringValue ?? "",
                mappingVersion: Int(p["mapping_version"]?.numberText ?? "") ?? 0,
                observedAt: p["observed_at"]?.stringValue ?? ""))
        }
        return fields
    }

    /// The record JSON: fields in catalog order, then any others by name.
    static func recordJSON(_ fields: [String: GoldenField], order: [String]) -> String {
        var out = "{"
        var first = true
        for name in orderedNames(fields, order) {
            if !first { out += "," }
            first = false
            JSONStringEscaper.append(name, to: &out)
            out += ":" + fields[name]!.value
        }
        return out + "}"
    }

    /// The provenance JSON: per field, where its value came from.
    static func provenanceJSON(_ fields: [String: GoldenField], order: [String]) -> String {
        var out = "{"
        var first = true
        for name in orderedNames(fields, order) {
            if !first { out += "," }
            first = false
            JSONStringEscaper.append(name, to: &out)
            out += ":" + provenanceObject(fields[name]!.provenance)
        }
        return out + "}"
    }

    static func provenanceObject(_ p: FieldProvenance) -> String {
        var out = "{\"adapter\":"
        JSONStringEscaper.append(p.adapter, to: &out)
        out += ",\"department\":"
        JSONStringEscaper.append(p.department, to: &out)
        out += ",\"source_key\":"
        JSONStringEscaper.append(p.sourceKey, to: &out)
        out += ",\"mapping\":"
        JSONStringEscaper.append(p.mappingID, to: &out)
        out += ",\"mapping_version\":\(p.mappingVersion),\"observed_at\":"
        JSONStringEscaper.append(p.observedAt, to: &out)
        return out + "}"
    }

    /// A change event's sources: one entry per changed field, with its provenance.
    static func sourcesJSON(_ fields: [String: GoldenField], changed: [String]) -> String {
        var out = "["
        for (i, name) in changed.enumerated() {
            guard let field = fields[name] else { continue }
            if i > 0 { out += "," }
            out += "{\"field\":"
            JSONStringEscaper.append(name, to: &out)
            out += "," + provenanceObject(field.provenance).dropFirst()
        }
        return out + "]"
    }

    /// A conflict side: `{"value": ..., "provenance": {...}}`.
    static func conflictSide(_ field: GoldenField) -> String {
        "{\"value\":\(field.value),\"provenance\":\(provenanceObject(field.provenance))}"
    }

    private static func orderedNames(_ fields: [String: GoldenField], _ order: [String]) -> [String] {
        let known = order.filter { fields[$0] != nil }
        let knownSet = Set(known)
        return known + fields.keys.filter { !knownSet.contains($0) }.sorted()
    }
}
