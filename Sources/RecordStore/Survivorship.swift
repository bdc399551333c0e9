/// Where one golden field's value came from.
public struct FieldProvenance: Sendable, Hashable, Codable {
    /// The adapter that delivered the value.
    public var adapter: String
    /// The adapter's department (`police`, `civil-affairs`, ...): what authority ranks compare.
    public var department: String
    /// The source record's key in the department system.
    public var sourceKey: String
    public var mappingID: String
    public var mappingVersion: Int
    /// When the hub observed the value (RFC 3339, UTC).
    public var observedAt: String
    /// Set when the value is an admin's decision (a stewardship override), not a department's.
    public var steward: StewardNote?
    /// Set when the record had no usable identity key and was linked by matching.
    public var match: MatchNote?

    public init(adapter: String, department: String, sourceKey: String, mappingID: String, mappingVersion: Int, observedAt: String,
                steward: StewardNote? = nil, match: MatchNote? = nil) {
        self.match = match
        self.adapter = adapter
        self.department = department
        self.sourceKey = sourceKey
        self.mappingID = mappingID
        self.mappingVersion = mappingVersion
        self.observedAt = observedAt
        self.steward = steward
    }

    /// The provenance of an admin's override: department `admin`, adapter `stewardship`.
    public static func override(by: String, reason: String, conflict: Int64?, at observedAt: String) -> FieldProvenance {
        FieldProvenance(adapter: StewardNote.adapter, department: StewardNote.department,
                        sourceKey: conflict.map { "conflict/\($0)" } ?? "correction", mappingID: "", mappingVersion: 0,
                        observedAt: observedAt, steward: StewardNote(by: by, reason: reason, conflict: conflict))
    }

    enum CodingKeys: String, CodingKey {
        case adapter, department, steward, match
        case sourceKey = "source_key"
        case mappingID = "mapping"
        case mappingVersion = "mapping_version"
        case observedAt = "observed_at"
    }
}

/// How a record without a usable identity key came to its entity: the blocking rule that found
/// the candidate, its score, the review case (nil for an automatic link at ingest) and who linked it.
public struct MatchNote: Sendable, Hashable, Codable {
    public var rule: String
    public var score: Double
    public var matchCase: Int64?
    /// `auto`, or the admin credential's name.
    public var by: String

    public init(rule: String, score: Double, matchCase: Int64?, by: String) {
        self.rule = rule
        self.score = score
        self.matchCase = matchCase
        self.by = by
    }

    enum CodingKeys: String, CodingKey {
        case rule, score, by
        case matchCase = "case"
    }
}

/// Who decided an override, why, and which conflict it settled (none for a correction).
public struct StewardNote: Sendable, Hashable, Codable {
    /// The department name overrides carry in provenance and conflict sides.
    public static let department = "admin"
    public static let adapter = "stewardship"

    /// The credential's name.
    public var by: String
    public var reason: String
    public var conflict: Int64?

    public init(by: String, reason: String, conflict: Int64?) {
        self.by = by
        self.reason = reason
        self.conflict = conflict
    }
}

/// An override in force on one field: who may retire it, and with what.
public struct OverrideGuard: Sendable, Hashable {
    /// The field's authoritative department (the first ranked, else the one that held the value).
    public var authorityDepartment: String?
    /// The value (JSON literal) that department had sent when the override was made, if any.
    public var authorityValue: String?

    public init(authorityDepartment: String?, authorityValue: String?) {
        self.authorityDepartment = authorityDepartment
        self.authorityValue = authorityValue
    }
}

/// What one observation was, for the record-once counters.
public enum ObservationKind: Int, Sendable, CaseIterable {
    /// The field had no value before.
    case newFact
    /// The same value was already held from another department: a fact entered twice.
    case confirmation
    /// The value changed because this department outranks (or, at equal rank, is newer than) the holder.
    case authorityChange
    /// A lower-ranked department disagreed: a conflict.
    case disagreement

    public var name: String {
        switch self {
        case .newFact: "new_fact"
        case .confirmation: "confirmation"
        case .authorityChange: "authority_change"
        case .disagreement: "disagreement"
        }
    }
}

/// A golden field: its value (a JSON literal) and its provenance.
public struct GoldenField: Sendable, Hashable, Codable {
    public var value: String
    public var provenance: FieldProvenance

    public init(value: String, provenance: FieldProvenance) {
        self.value = value
        self.provenance = provenance
    }
}

/// One department's claim about one field of one entity.
public struct Observation: Sendable, Hashable {
    public var field: String
    /// The canonical value as a JSON literal (`"2"`, `"1985-03-12"`, `true`, `3`).
    public var value: String
    public var provenance: FieldProvenance

    public init(field: String, value: String, provenance: FieldProvenance) {
        self.field = field
        self.value = value
        self.provenance = provenance
    }
}

/// A lower-ranked source disagreeing with the golden value: kept for an admin, not applied.
public struct FieldConflict: Sendable, Hashable {
    public var field: String
    public var golden: GoldenField
    public var challenger: GoldenField
}

/// What merging observations into a golden record gives.
public struct MergeOutcome: Sendable {
    public var fields: [String: GoldenField]
    /// Fields whose value changed, in the order first changed.
    public var changedFields: [String]
    public var conflicts: [FieldConflict]
    /// Per observation (same order), what it was; nil for a repeat from the value's own holder.
    public var kinds: [ObservationKind?] = []
    /// Fields whose override retired because their authority sent new information.
    public var retired: [String] = []
}

/// Survivorship: which department's value a golden field keeps (design decision 5).
///
/// - A field with no value takes the first observed one.
/// - A source ranked higher for the field (earlier in its `authorities`) replaces the value.
/// - Among equal rank the newest observation wins; departments not listed share the lowest rank.
/// - A lower-ranked source that disagrees opens a conflict and changes nothing.
/// - The same value from any source changes nothing (the provenance stays with the value's
///   current holder unless the newcomer outranks it).
public struct Survivorship: Sendable {
    /// Ranked departments per field; fields not listed rank every department equally.
    let authorities: [String: [String]]

    public init(authorities: [String: [String]]) {
        self.authorities = authorities
    }

    /// 0 is the highest rank; departments not listed rank after every listed one.
    public func rank(of department: String, for field: String) -> Int {
        guard let ranked = authorities[field] else { return 0 }
        return ranked.firstIndex(of: department) ?? ranked.count
    }

    /// Merges observations (in arrival order) into `current`. A field holding an admin's
    /// override (`steward` provenance) outranks every department; it retires when its
    /// `overrides` guard's authority sends a value other than the one it had sent before.
    public func merge(_ current: [String: GoldenField], _ observations: [Observation],
                      overrides: [String: OverrideGuard] = [:]) -> MergeOutcome {
        var fields = current
        var changed: [String] = []
        var conflicts: [FieldConflict] = []
        var kinds: [ObservationKind?] = []
        var retired: [String] = []
        kinds.reserveCapacity(observations.count)
        func take(_ field: String, _ incoming: GoldenField) {
            fields[field] = incoming
            if !changed.contains(field) { changed.append(field) }
        }
        for observation in observations {
            let field = observation.field
            let incoming = GoldenField(value: observation.value, provenance: observation.provenance)
            guard let existing = fields[field] else {
                take(field, incoming)
                kinds.append(.newFact)
                continue
            }
            let department = observation.provenance.department
            if existing.provenance.steward != nil {
                let guardian = overrides[field]
                if let guardian, department == guardian.authorityDepartment, observation.value != guardian.authorityValue {
                    // New information at the authoritative source: the override retires.
                    take(field, incoming)
                    if !retired.contains(field) { retired.append(field) }
                    kinds.append(existing.value == observation.value ? .confirmation : .authorityChange)
                } else if existing.value == observation.value {
                    kinds.append(.confirmation)
                } else if guardian != nil && department == guardian?.authorityDepartment {
                    kinds.append(nil)   // the authority repeating what it said before the override
                } else {
                    conflicts.append(FieldConflict(field: field, golden: existing, challenger: incoming))
                    kinds.append(.disagreement)
                }
                continue
            }
            let newRank = rank(of: department, for: field)
            let oldRank = rank(of: existing.provenance.department, for: field)
            if existing.value == observation.value {
                // Agreement. A higher-ranked source takes over the provenance (no new version).
                if newRank < oldRank { fields[field] = incoming }
                kinds.append(existing.provenance.department == department ? nil : .confirmation)
                continue
            }
            if newRank < oldRank || (newRank == oldRank && observation.provenance.observedAt >= existing.provenance.observedAt) {
                take(field, incoming)
                kinds.append(.authorityChange)
            } else {
                conflicts.append(FieldConflict(field: field, golden: existing, challenger: incoming))
                kinds.append(.disagreement)
            }
        }
        // A field that changed and changed back within one batch is not a change (unless its
        // override retired: the provenance changed hands).
        changed = changed.filter { current[$0]?.value != fields[$0]?.value || retired.contains($0) }
        return MergeOutcome(fields: fields, changedFields: changed, conflicts: conflicts, kinds: kinds, retired: retired)
    }
}
