import Catalog
import Foundation
import JSON5
import Mapping
import Secrets
import SourceFormats
import Store

/// The blocking-key index (`match_keys`) and the scoring of candidates found through it.
/// Keys are SHA-256 of the rule name and normalized values, so the index holds no personal data
/// in clear; a keyless record costs one indexed lookup per blocking rule, never a scan.
enum MatchIndex {
    /// A record's values as text, by field, as matching reads them.
    static func values(_ record: CanonicalRecord) -> [String: String] {
        Dictionary(record.fields.map { ($0.name, $0.value.text) }, uniquingKeysWith: { a, _ in a })
    }

    /// A stored golden record's (or a case record's) values as text, by field.
    static func values(json: String) -> [String: String] {
        guard case .object(let object)? = try? JSON5.parseJSON(json) else { return [:] }
        var out: [String: String] = [:]
        for member in object.members {
            switch member.value {
            case .string(let s): out[member.key] = s
            case .number(let n): out[member.key] = n
            case .bool(let b): out[member.key] = b ? "true" : "false"
            default: break
            }
        }
        return out
    }

    /// A record's values (as `values(json:)` reads them) and its blocking keys as stored.
    typealias MatchData = (values: [String: String], blocks: [(rule: String, hash: String)])

    /// The match data of a stored golden record's JSON.
    static func matchData(_ matcher: Matcher, resource: String, json: String) -> MatchData {
        let values = values(json: json)
        return (values, blocks(matcher, resource: resource, values: values))
    }

    /// The match data of a first version written from `record` (its JSON is `json`), without
    /// parsing that JSON back: the values are the same as `values(json:)` reads from it. A record
    /// with a number or a repeated field name is read back from the JSON, which decides there (a
    /// literal that is not a JSON number, or a repeated name, makes the whole record unreadable).
    static func matchData(_ matcher: Matcher, resource: String, firstVersionOf record: CanonicalRecord, json: String) -> MatchData {
        var values: [String: String] = [:]
        values.reserveCapacity(record.fields.count)
        for field in record.fields {
            let text: String
            switch field.value {
            case .string(let s), .code(let s), .date(let s), .datetime(let s): text = s
            case .boolean(let b): text = b ? "true" : "false"
            case .integer, .decimal: return matchData(matcher, resource: resource, json: json)
            }
            guard values.updateValue(text, forKey: field.name) == nil else { return matchData(matcher, resource: resource, json: json) }
        }
        return (values, blocks(matcher, resource: resource, values: values))
    }

    /// Blocking keys as stored: (rule name, the first 64 bits of the SHA-256 of resource and key, in hex).
    static func blocks(_ matcher: Matcher, resource: String, values: [String: String]) -> [(rule: String, hash: String)] {
        matcher.blockingKeys(values).map { ($0.rule, Secrets.hex(Array(Secrets.sha256(resource + "\u{1F}" + $0.key).prefix(8)))) }
    }

    /// Rewrites the blocking keys of entities that got a new version (in the caller's transaction).
    static func refresh(_ written: [(id: String, resource: String, record: String)], rules: StoreRules, in c: PostgresConnection) throws {
        let matchable = written.filter { rules.matchers[$0.resource] != nil }
        try replace(matchable.map { w in (w.id, w.resource, blocks(rules.matchers[w.resource]!, resource: w.resource, values: values(json: w.record))) },
                    deleting: matchable.map(\.id), in: c)
    }

    /// Writes these entities' blocking keys, after removing the old keys of `deleting` (an entity
    /// created in this very transaction has none, so a batch of new ones deletes nothing).
    /// `exclusive`: the caller holds the rows of every entity in `entries` locked (or created
    /// them in this transaction) and every one that may have keys is in `deleting`, so no row
    /// can exist already: the keys go in by COPY (duplicates within `entries` are dropped here)
    /// instead of an INSERT that checks each for a conflict.
    static func replace(_ entries: [(id: String, resource: String, blocks: [(rule: String, hash: String)])], deleting: [String],
                        exclusive: Bool = false, in c: PostgresConnection) throws {
        if !deleting.isEmpty {
            try c.execute("DELETE FROM match_keys WHERE entity_id = ANY($1::uuid[])", [deleting])
        }
        var ids: [String] = [], resources: [String] = [], hashes: [String] = []
        for e in entries {
            for b in e.blocks { ids.append(e.id); resources.append(e.resource); hashes.append(b.hash) }
        }
        guard !ids.isEmpty else { return }
        if exclusive {
            var seen = Set<String>()
            try c.copyIn("COPY match_keys (resource, block, entity_id) FROM STDIN") { w in
                for i in ids.indices where seen.insert(resources[i] + "\u{1F}" + hashes[i] + "\u{1F}" + ids[i]).inserted {
                    try w.appendRow([resources[i], hashes[i], ids[i]])
                }
            }
            return
        }
        try c.execute("""
            INSERT INTO match_keys (resource, block, entity_id)
            SELECT r, b, e FROM unnest($1::text[], $2::text[], $3::uuid[]) AS u(r, b, e) ON CONFLICT DO NOTHING
            """, [resources, hashes, ids])
    }

    /// A candidate entity of a keyless record, with its score and per-rule verdicts.
    struct Candidate {
        let entityID: String
        let identityKey: String
        /// The blocking rules that found it.
        var foundBy: [String]
        var score: Double
        var agreement: [(field: String, agreement: RuleAgreement)]
        var disagrees: Bool { agreement.contains { $0.agreement == .disagree } }

        /// `{"entity_id","score","found_by":[..],"rules":{"name":"agree",..}}`: no values.
        var json: String {
            var out = "{\"entity_id\":"
            JSONStringEscaper.append(entityID, to: &out)
            out += ",\"score\":\(score),\"found_by\":["
            out += foundBy.map { var s = ""; JSONStringEscaper.append($0, to: &s); return s }.joined(separator: ",")
            out += "],\"rules\":{"
            out += agreement.map { a in
                var s = ""
                JSONStringEscaper.append(a.field, to: &s)
                return s + ":\"" + a.agreement.rawValue + "\""
            }.joined(separator: ",")
            return out + "}}"
        }
    }

    /// Entities sharing a blocking key with each record, scored; one query per resource.
    static func candidates(resource: String, records: [[String: String]], matcher: Matcher,
                           in c: PostgresConnection) throws -> [[Candidate]] {
        let perRecord = records.map { blocks(matcher, resource: resource, values: $0) }
        let all = Array(Set(perRecord.flatMap { $0.map(\.hash) }))
        guard !all.isEmpty else { return records.map { _ in [] } }
        var byBlock: [String: [String]] = [:]
        var entities: [String: (key: String, values: [String: String])] = [:]
        for row in try c.query("""
            SELECT k.block, e.id, e.identity_key, e.record::text AS record
            FROM match_keys k JOIN entities e ON e.id = k.entity_id
            WHERE k.resource = $1 AND k.block = ANY($2::text[])
            """, [resource, all]).rows {
            let id = row["id"]!
            byBlock[row["block"]!, default: []].append(id)
            if entities[id] == nil { entities[id] = (row["identity_key"]!, values(json: row["record"]!)) }
        }
        return zip(records, perRecord).map { record, blocks in
            var found: [String: [String]] = [:]
            var order: [String] = []
            for b in blocks {
                for id in byBlock[b.hash] ?? [] {
                    if found[id] == nil { order.append(id) }
                    found[id, default: []].append(b.rule)
                }
            }
            return order.map { id in
                let (score, agreement) = matcher.score(record, entities[id]!.values)
                return Candidate(entityID: id, identityKey: entities[id]!.key, foundBy: found[id]!, score: score, agreement: agreement)
            }.sorted { ($0.score, $1.entityID) > ($1.score, $0.entityID) }
        }
    }

    /// The one candidate safe to link without review: the only one at or above the threshold,
    /// with no rule that disagrees.
    static func autoLink(_ candidates: [Candidate], threshold: Double) -> Candidate? {
        Matcher.autoLinkChoice(candidates.map { ($0.score, $0.disagrees) }, threshold: threshold).map { candidates[$0] }
    }

    /// Why a keyless record went to review.
    static func outcome(_ candidates: [Candidate]) -> String {
        candidates.isEmpty ? "no_candidate" : candidates.count > 1 ? "ambiguous" : "below_threshold"
    }

    /// A canonical record rebuilt from a case's stored fields (values keep their JSON kind).
    static func record(resource: String, fieldsJSON: String, sourceKey: String, mapping: String, version: Int) -> CanonicalRecord {
        var fields: [CanonicalField] = []
        if case .object(let object)? = try? JSON5.parseJSON(fieldsJSON) {
            for member in object.members {
                switch member.value {
                case .string(let s): fields.append(CanonicalField(member.key, .string(s)))
                case .number(let n): fields.append(CanonicalField(member.key, .decimal(n)))
                case .bool(let b): fields.append(CanonicalField(member.key, .boolean(b)))
                default: break
                }
            }
        }
        return CanonicalRecord(resource: resource, identity: [:], fields: fields, sourceKey: sourceKey, mappingId: mapping, mappingVersion: version)
    }
}
