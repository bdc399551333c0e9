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

    public init(adapter: String, department: String, sourceKey: String, mappingID: String, mappingVersion: Int, observedAt: String) {
        self.adapter = adapter
        self.department = department
        self.sourceKey = sourceKey
        self.mappingID = mappingID
        self.mappingVersion = mappingVersion
        self.observedAt = observedAt
    }

    enum CodingKeys: String, CodingKey {
        case adapter, department
        case sourceKey = "source_key"
        case mappingID = "mapping"
        case mappingVersion = "mapping_version"
        case observedAt = "observed_at"
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

    /// Merges observations (in arrival order) into `current`.
    public func merge(_ current: [String: GoldenField], _ observations: [Observation]) -> MergeOutcome {
        var fields = current
        var changed: [String] = []
        var conflicts: [FieldConflict] = []
        for observation in observations {
            let incoming = GoldenField(value: observation.value, provenance: observation.provenance)
            guard let existing = fields[observation.field] else {
                fields[observation.field] = incoming
                if !changed.contains(observation.field) { changed.append(observation.field) }
                continue
            }
            let newRank = rank(of: observation.provenance.department, for: observation.field)
            let oldRank = rank(of: existing.provenance.department, for: observation.field)
            if existing.value == observation.value {
                // Agreement. A higher-ranked source takes over the provenance (no new version).
                if newRank < oldRank { fields[observation.field] = incoming }
                continue
            }
            if newRank < oldRank || (newRank == oldRank && observation.provenance.observedAt >= existing.provenance.observedAt) {
                fields[observation.field] = incoming
                if !changed.contains(observation.field) { changed.append(observation.field) }
            } else {
                conflicts.append(FieldConflict(field: observation.field, golden: existing, challenger: incoming))
            }
        }
        // A field that changed and changed back within one batch is not a change.
        changed = changed.filter { current[$0]?.value != fields[$0]?.value }
        return MergeOutcome(fields: fields, changedFields: changed, conflicts: conflicts)
    }
}
