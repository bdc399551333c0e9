import Catalog
import JSON5
import Mapping
import SourceFormats

/// Golden records as stored in `entities.record` and `entities.provenance` (jsonb), and the
/// JSON text of values, provenance and change-event sources.
///
/// Values are compared as JSON literals that always go through `JSONValue.jsonText()`, so a value
/// read back from jsonb and the same value fresh from a mapping compare equal.
///
/// Provenance is stored compactly: each distinct source once, each field pointing at one,
/// `{"sources":[{adapter, department, source_key, mapping, mapping_version, observed_at}],
/// "fields":{"name":0,"sex":0}}`. A record from one department has one source for all its fields,
/// so this is a fraction of a per-field copy (and stays under PostgreSQL's compression threshold).
/// API reads expand it to one provenance object per field.
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
        guard let members = plainMembers(record) else { return try decodeByParsing(record: record, provenance: provenance) }
        let sources = try compactProvenance(provenance)
        var fields: [String: GoldenField] = [:]
        fields.reserveCapacity(members.count)
        for (name, literal) in members {
            guard let source = sources[name] else { continue }
            fields[name] = GoldenField(value: literal, provenance: source)
        }
        return fields
    }

    /// `decode` through the JSON parser: for records `plainMembers` leaves to it, and the
    /// definition its result keeps to.
    static func decodeByParsing(record: String, provenance: String) throws -> [String: GoldenField] {
        guard case .object(let values) = try JSON5.parseJSON(record) else { return [:] }
        let sources = try compactProvenance(provenance)
        var fields: [String: GoldenField] = [:]
        for member in values.members {
            guard let source = sources[member.key] else { continue }
            fields[member.key] = GoldenField(value: member.value.jsonText(), provenance: source)
        }
        return fields
    }

    /// The members of a stored record as (name, JSON literal), read without building a JSON tree,
    /// when the record is an object of plain scalars: strings with no escape, numbers as jsonb
    /// writes them (`-12.50`), true, false, null. Their literal is then their text as stored,
    /// which is what `jsonText()` would write. Nil for anything else (the parser decides there):
    /// every existing entity of a batch is read back, and this is most of its cost.
    static func plainMembers(_ text: String) -> [(String, String)]? {
        var text = text
        return text.withUTF8 { b -> [(String, String)]? in
            let n = b.count
            var i = 0
            func skipSpace() { while i < n, b[i] == 0x20 || b[i] == 0x0A || b[i] == 0x0D || b[i] == 0x09 { i += 1 } }
            func plainString() -> Range<Int>? {          // at a quote; the range holds the quotes
                guard i < n, b[i] == 0x22 else { return nil }
                let start = i
                i += 1
                while i < n, b[i] != 0x22 {
                    if b[i] == 0x5C || b[i] < 0x20 { return nil }
                    i += 1
                }
                guard i < n else { return nil }
                i += 1
                return start..<i
            }
            func digits() -> Int {
                let start = i
                while i < n, b[i] >= 0x30, b[i] <= 0x39 { i += 1 }
                return i - start
            }
            func word(_ w: StaticString) -> Bool {
                let count = w.utf8CodeUnitCount
                guard i + count <= n else { return false }
                for k in 0..<count where b[i + k] != w.utf8Start[k] { return false }
                i += count
                return true
            }
            skipSpace()
            guard i < n, b[i] == 0x7B else { return nil }
            i += 1
            skipSpace()
            var out: [(String, String)] = []
            if i < n, b[i] == 0x7D {
                i += 1
                skipSpace()
                return i == n ? out : nil
            }
            while true {
                skipSpace()
                guard let key = plainString() else { return nil }
                skipSpace()
                guard i < n, b[i] == 0x3A else { return nil }
                i += 1
                skipSpace()
                guard i < n else { return nil }
                let start = i
                switch b[i] {
                case 0x22:
                    guard plainString() != nil else { return nil }
                case 0x2D, 0x30...0x39:
                    if b[i] == 0x2D { i += 1 }
                    let leadingZero = i < n && b[i] == 0x30
                    let whole = digits()
                    guard whole > 0, !(leadingZero && whole > 1) else { return nil }
                    if i < n, b[i] == 0x2E {
                        i += 1
                        guard digits() > 0 else { return nil }
                    }
                    if i < n, b[i] | 0x20 == 0x65 { return nil }   // an exponent: jsonb never writes one
                case 0x74: guard word("true") else { return nil }
                case 0x66: guard word("false") else { return nil }
                case 0x6E: guard word("null") else { return nil }
                default: return nil
                }
                out.append((String(decoding: UnsafeBufferPointer(rebasing: b[(key.lowerBound + 1)..<(key.upperBound - 1)]), as: UTF8.self),
                            String(decoding: UnsafeBufferPointer(rebasing: b[start..<i]), as: UTF8.self)))
                skipSpace()
                guard i < n else { return nil }
                if b[i] == 0x2C { i += 1; continue }
                guard b[i] == 0x7D else { return nil }
                i += 1
                skipSpace()
                return i == n ? out : nil
            }
        }
    }

    /// Per field, its provenance, from the stored compact form.
    static func compactProvenance(_ text: String) throws -> [String: FieldProvenance] {
        guard case .object(let root) = try JSON5.parseJSON(text),
              case .array(let list)? = root["sources"], case .object(let pointers)? = root["fields"] else { return [:] }
        let sources: [FieldProvenance] = list.map { s in
            FieldProvenance(adapter: s["adapter"]?.stringValue ?? "", department: s["department"]?.stringValue ?? "",
                            sourceKey: s["source_key"]?.stringValue ?? "", mappingID: s["mapping"]?.stringValue ?? "",
                            mappingVersion: Int(s["mapping_version"]?.numberText ?? "") ?? 0,
                            observedAt: s["observed_at"]?.stringValue ?? "", steward: stewardNote(s), match: matchNote(s))
        }
        var out: [String: FieldProvenance] = [:]
        for member in pointers.members {
            if let i = member.value.intValue, sources.indices.contains(i) { out[member.key] = sources[i] }
        }
        return out
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

    /// The compact provenance JSON stored with a golden record.
    static func provenanceJSON(_ fields: [String: GoldenField], order: [String]) -> String {
        var sources: [FieldProvenance] = []
        var index: [FieldProvenance: Int] = [:]
        var pointers = ""
        for name in orderedNames(fields, order) {
            let p = fields[name]!.provenance
            let i: Int
            if let known = index[p] { i = known } else {
                i = sources.count
                index[p] = i
                sources.append(p)
            }
            if !pointers.isEmpty { pointers += "," }
            JSONStringEscaper.append(name, to: &pointers)
            pointers += ":\(i)"
        }
        return "{\"sources\":[" + sources.map(provenanceObject).joined(separator: ",") + "],\"fields\":{" + pointers + "}}"
    }

    /// The stored compact provenance expanded to one object per field (what the API shows).
    static func expandedProvenanceJSON(_ stored: String) throws -> String {
        let perField = try compactProvenance(stored)
        var out = "{"
        for (i, name) in perField.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONStringEscaper.append(name, to: &out)
            out += ":" + provenanceObject(perField[name]!)
        }
        return out + "}"
    }

    static func provenanceObject(_ p: FieldProvenance) -> String {
        var out: [UInt8] = [0x7B]
        appendProvenanceMembers(p, to: &out)
        out.append(0x7D)
        return String(decoding: out, as: UTF8.self)
    }

    private static func provenanceMembers(_ p: FieldProvenance) -> String {
        var out: [UInt8] = []
        appendProvenanceMembers(p, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// The members of a provenance object, as UTF-8 (no braces).
    private static func appendProvenanceMembers(_ p: FieldProvenance, to out: inout [UInt8]) {
        func literal(_ s: StaticString) { out.append(contentsOf: UnsafeBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount)) }
        func text(_ s: String) { out.append(contentsOf: s.utf8) }
        literal(#""adapter":"#)
        JSONStringEscaper.append(p.adapter, to: &out)
        literal(#","department":"#)
        JSONStringEscaper.append(p.department, to: &out)
        literal(#","source_key":"#)
        JSONStringEscaper.append(p.sourceKey, to: &out)
        literal(#","mapping":"#)
        JSONStringEscaper.append(p.mappingID, to: &out)
        literal(#","mapping_version":"#)
        text(String(p.mappingVersion))
        literal(#","observed_at":"#)
        JSONStringEscaper.append(p.observedAt, to: &out)
        if let note = p.steward {
            literal(#","by":"#)
            JSONStringEscaper.append(note.by, to: &out)
            literal(#","reason":"#)
            JSONStringEscaper.append(note.reason, to: &out)
            literal(#","conflict":"#)
            text(note.conflict.map(String.init) ?? "null")
        }
        if let m = p.match {
            literal(#","match":{"rule":"#)
            JSONStringEscaper.append(m.rule, to: &out)
            literal(#","score":"#)
            text("\(m.score)")
            literal(#","case":"#)
            text(m.matchCase.map(String.init) ?? "null")
            literal(#","by":"#)
            JSONStringEscaper.append(m.by, to: &out)
            out.append(0x7D)
        }
    }

    /// The match note of a stored source (`match`: rule, score, case, by), when it has one.
    static func matchNote(_ s: JSONValue) -> MatchNote? {
        guard let m = s["match"], let rule = m["rule"]?.stringValue else { return nil }
        return MatchNote(rule: rule, score: Double(m["score"]?.numberText ?? "") ?? 0,
                         matchCase: m["case"]?.numberText.flatMap { Int64($0) }, by: m["by"]?.stringValue ?? "")
    }

    /// The override note of a stored source (`by`, `reason`, `conflict`), when it has one.
    static func stewardNote(_ s: JSONValue) -> StewardNote? {
        guard let by = s["by"]?.stringValue else { return nil }
        return StewardNote(by: by, reason: s["reason"]?.stringValue ?? "", conflict: s["conflict"]?.numberText.flatMap { Int64($0) })
    }

    /// Reads a conflict side (`{"value":..,"provenance":{..}}`) back.
    static func decodeSide(_ text: String) throws -> GoldenField? {
        guard case .object(let side) = try JSON5.parseJSON(text), let value = side["value"], let p = side["provenance"] else { return nil }
        return GoldenField(value: value.jsonText(), provenance: provenance(p))
    }

    /// A provenance object as `provenanceObject` writes it.
    static func provenance(_ s: JSONValue) -> FieldProvenance {
        FieldProvenance(adapter: s["adapter"]?.stringValue ?? "", department: s["department"]?.stringValue ?? "",
                        sourceKey: s["source_key"]?.stringValue ?? "", mappingID: s["mapping"]?.stringValue ?? "",
                        mappingVersion: Int(s["mapping_version"]?.numberText ?? "") ?? 0,
                        observedAt: s["observed_at"]?.stringValue ?? "", steward: stewardNote(s), match: matchNote(s))
    }

    /// A change event's sources: each source of a changed value once, with the fields it gave.
    static func sourcesJSON(_ fields: [String: GoldenField], changed: [String]) -> String {
        var order: [FieldProvenance] = []
        var given: [FieldProvenance: [String]] = [:]
        for name in changed {
            guard let p = fields[name]?.provenance else { continue }
            if given[p] == nil { order.append(p) }
            given[p, default: []].append(name)
        }
        return "[" + order.map { p in
            var fieldList = ""
            for (i, name) in given[p]!.enumerated() {
                if i > 0 { fieldList += "," }
                JSONStringEscaper.append(name, to: &fieldList)
            }
            return "{" + provenanceMembers(p) + ",\"fields\":[" + fieldList + "]}"
        }.joined(separator: ",") + "]"
    }

    /// The first version of an entity seen in one source record: every field is new and comes
    /// from that one source, so survivorship has nothing to decide. Record, compact provenance and
    /// event sources are written straight from the canonical record (the hot path of a first
    /// load); they equal what `recordJSON`, `provenanceJSON` and `sourcesJSON` give.
    /// The first version with its match data when its resource has match rules.
    static func firstVersion(_ record: CanonicalRecord, provenance: FieldProvenance, matcher: Matcher?) -> FirstVersion {
        var first = firstVersion(record, provenance: provenance)
        first.match = matcher.map { MatchIndex.matchData($0, resource: record.resource, firstVersionOf: record, json: first.record) }
        return first
    }

    static func firstVersion(_ record: CanonicalRecord, provenance p: FieldProvenance) -> FirstVersion {
        var recordBytes: [UInt8] = []
        recordBytes.reserveCapacity(64 + record.fields.count * 32)
        record.writeFieldsJSON(to: &recordBytes)
        var names: [UInt8] = []          // "a","b",...
        var pointers: [UInt8] = []       // "a":0,"b":0,...
        names.reserveCapacity(record.fields.count * 16)
        pointers.reserveCapacity(record.fields.count * 18)
        for (i, field) in record.fields.enumerated() {
            if i > 0 { names.append(0x2C); pointers.append(0x2C) }
            let start = names.count
            JSONStringEscaper.append(field.name, to: &names)
            pointers.append(contentsOf: names[start...])
            pointers.append(0x3A); pointers.append(0x30)
        }
        var members: [UInt8] = []        // "adapter":..,"observed_at":..
        members.reserveCapacity(256)
        appendProvenanceMembers(p, to: &members)
        var provenance: [UInt8] = []
        provenance.reserveCapacity(members.count + pointers.count + 32)
        provenance.append(contentsOf: #"{"sources":[{"#.utf8)
        provenance.append(contentsOf: members)
        provenance.append(contentsOf: #"}],"fields":{"#.utf8)
        provenance.append(contentsOf: pointers)
        provenance.append(0x7D); provenance.append(0x7D)
        var sources: [UInt8] = []
        sources.reserveCapacity(members.count + names.count + 16)
        sources.append(0x5B); sources.append(0x7B)
        sources.append(contentsOf: members)
        sources.append(contentsOf: #","fields":["#.utf8)
        sources.append(contentsOf: names)
        sources.append(0x5D); sources.append(0x7D); sources.append(0x5D)
        return FirstVersion(record: String(decoding: recordBytes, as: UTF8.self), provenance: String(decoding: provenance, as: UTF8.self),
                            sources: String(decoding: sources, as: UTF8.self), changed: record.fields.map(\.name))
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
