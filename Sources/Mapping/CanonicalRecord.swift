import SourceFormats

/// A normalized canonical value. Dates are `YYYY-MM-DD`, codes are national code strings,
/// integers and decimals are canonical text (no leading zeros, no trailing fractional zeros).
public enum CanonicalValue: Sendable, Hashable, CustomStringConvertible {
    case string(String)
    case code(String)
    case date(String)
    case datetime(String)
    case integer(String)
    case decimal(String)
    case boolean(Bool)

    /// The value as text (what tests and reports compare).
    public var text: String {
        switch self {
        case .string(let s), .code(let s), .date(let s), .datetime(let s), .integer(let s), .decimal(let s): s
        case .boolean(let b): b ? "true" : "false"
        }
    }

    public var description: String { text }

    /// Appends the value as JSON: numbers and booleans bare, everything else a string.
    public func appendJSON(to out: inout String) {
        switch self {
        case .integer(let s), .decimal(let s): out += s
        case .boolean(let b): out += b ? "true" : "false"
        case .string(let s), .code(let s), .date(let s), .datetime(let s): JSONStringEscaper.append(s, to: &out)
        }
    }
}

/// One named canonical field value.
public struct CanonicalField: Sendable, Hashable {
    public var name: String
    public var value: CanonicalValue
    public init(_ name: String, _ value: CanonicalValue) {
        self.name = name
        self.value = value
    }
}

/// One canonical record produced by a mapping: the resource, its normalized identity key, the
/// fields in catalog order, and its provenance (source key, mapping id and version).
public struct CanonicalRecord: Sendable, Hashable {
    public var resource: String
    /// Normalized identity key fields (e.g. `citizenId` for Person).
    public var identity: [String: String]
    /// Fields in the catalog's field order (identity fields included).
    public var fields: [CanonicalField]
    public var sourceKey: String?
    public var mappingId: String
    public var mappingVersion: Int

    public init(resource: String, identity: [String: String], fields: [CanonicalField], sourceKey: String?,
                mappingId: String, mappingVersion: Int) {
        self.resource = resource
        self.identity = identity
        self.fields = fields
        self.sourceKey = sourceKey
        self.mappingId = mappingId
        self.mappingVersion = mappingVersion
    }

    public subscript(name: String) -> CanonicalValue? { fields.first { $0.name == name }?.value }

    /// The fields as a JSON object in catalog order: deterministic, for content hashing and jsonb.
    public func fieldsJSON() -> String {
        var out: [UInt8] = []
        out.reserveCapacity(64 + fields.count * 32)
        writeFieldsJSON(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the fields JSON as UTF-8 bytes (no intermediate strings; what a store hashes).
    public func writeFieldsJSON(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, f) in fields.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONStringEscaper.append(f.name, to: &out)
            out.append(UInt8(ascii: ":"))
            switch f.value {
            case .integer(let s), .decimal(let s): out.append(contentsOf: s.utf8)
            case .boolean(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
            case .string(let s), .code(let s), .date(let s), .datetime(let s): JSONStringEscaper.append(s, to: &out)
            }
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The identity as a JSON object with sorted keys.
    public func identityJSON() -> String {
        var out = "{"
        for (i, key) in identity.keys.sorted().enumerated() {
            if i > 0 { out += "," }
            JSONStringEscaper.append(key, to: &out)
            out += ":"
            JSONStringEscaper.append(identity[key]!, to: &out)
        }
        return out + "}"
    }

    /// The whole record as deterministic JSON: `{"resource":..,"identity":{..},"fields":{..}}`.
    public func jsonText() -> String {
        var out = "{\"resource\":"
        JSONStringEscaper.append(resource, to: &out)
        out += ",\"identity\":" + identityJSON() + ",\"fields\":" + fieldsJSON() + "}"
        return out
    }
}

/// A problem with one source record found while applying a mapping.
public struct MappingIssue: Sendable, Hashable, CustomStringConvertible {
    public enum Severity: String, Sendable, Hashable {
        /// The source record is rejected (none of its canonical records is produced).
        case error
        /// The record is kept; the field may have been dropped.
        case warning
    }

    /// Where the source record is (file:line, record index, XML path).
    public var locator: SourceLocator
    /// Canonical field, `Resource.field` (or `record` for the whole record).
    public var field: String
    /// The source path the value came from, if any.
    public var sourcePath: String?
    /// Stable code: `citizen_id.check_digit`, `code.unknown`, `required.missing`, ...
    public var rule: String
    /// What is wrong, never the value.
    public var message: String
    public var severity: Severity
    /// The offending value, for reports that are explicitly asked to show values. Never in `description`.
    public var value: String?

    public init(locator: SourceLocator, field: String, sourcePath: String? = nil, rule: String, message: String,
                severity: Severity, value: String? = nil) {
        self.locator = locator
        self.field = field
        self.sourcePath = sourcePath
        self.rule = rule
        self.message = message
        self.severity = severity
        self.value = value
    }

    /// `file:line [i]: error: Person.citizenId (GMSFHM): message [rule]`, with no personal value.
    public var description: String {
        var out = "\(locator): \(severity.rawValue): \(field)"
        if let sourcePath { out += " (\(sourcePath))" }
        return out + ": \(message) [\(rule)]"
    }
}

/// What applying a mapping to one source record gives.
public struct MappingResult: Sendable {
    /// Canonical records (empty when the record was rejected or skipped).
    public var records: [CanonicalRecord]
    public var issues: [MappingIssue]
    /// The record matched the mapping's `skip` condition (not an error).
    public var skipped: Bool

    public init(records: [CanonicalRecord] = [], issues: [MappingIssue] = [], skipped: Bool = false) {
        self.records = records
        self.issues = issues
        self.skipped = skipped
    }

    /// Rejected: at least one error issue.
    public var rejected: Bool { issues.contains { $0.severity == .error } }
}
