import JSON5
import SourceFormats

/// A mapping file as written, with the position of every part (produced by `MappingSpecParser`).
/// The format is documented in docs/mappings.md.
public struct MappingSpec: Sendable {
    /// Stable id of the mapping (`police-hukou`); canonical records carry it.
    public var id: String
    /// Version number; bump it on every change (canonical records carry it as provenance).
    public var version: Int
    public var description: String?
    public var source: SourceSpec
    public var crosswalks: [String: CrosswalkSpec]
    /// Skip the whole record (not an error) when this holds.
    public var skip: ConditionSpec?
    public var outputs: [OutputSpec]
    public var file: String
}

/// Which adapter's records the mapping reads, and how its wire format is read.
public struct SourceSpec: Sendable {
    public var adapter: String
    public var department: String
    public var format: SourceFormat
    public var readOptions: SourceReadOptions
    /// Path to the record's key in the department system.
    public var key: SourcePath?
}

/// A table from local codes or labels to national codes, written per source.
public struct CrosswalkSpec: Sendable {
    public var name: String
    public var entries: [(local: String, code: String, position: SourcePosition)]
    public var position: SourcePosition
    public var table: [String: String] { Dictionary(entries.map { ($0.local, $0.code) }, uniquingKeysWith: { a, _ in a }) }
}

/// One canonical resource produced from each source record (or from each element of `each`).
public struct OutputSpec: Sendable {
    public var resource: String
    public var position: SourcePosition
    public var path: String
    public var when: ConditionSpec?
    public var each: SourcePath?
    /// The output updates some facts of an existing entity: required fields need not be mapped.
    public var partial: Bool
    public var fields: [FieldSpec]
    /// Records whose identity key is missing or invalid go through matching instead of being rejected.
    public var matchable: MatchSettings? = nil
}

/// A matchable output's thresholds (`matchable: true` or `matchable: { autoLink: 0.9 }`).
public struct MatchSettings: Sendable, Hashable {
    /// The safe default: a candidate is linked without review only when every rule that can be
    /// compared agrees and they carry at least this share of the weight.
    public static let defaultAutoLink = 0.8
    /// The lowest score at which a single candidate is linked without review (and only when no rule disagrees).
    public var autoLink: Double
    public init(autoLink: Double = MatchSettings.defaultAutoLink) { self.autoLink = autoLink }
}

/// How one canonical field gets its value.
public struct FieldSpec: Sendable {
    public var target: String
    public var position: SourcePosition
    public var path: String
    /// Source paths; several are concatenated with `separator`.
    public var from: [SourcePath]
    public var separator: String
    public var constant: String?
    public var defaultValue: String?
    public var constantPosition: SourcePosition?
    public var transforms: [TransformSpec]
    public var skipWhen: ConditionSpec?
    /// What an invalid value does: `reject` the record, or `drop` the field with a warning.
    /// Default: reject for identity and required fields, drop otherwise.
    public var onInvalid: InvalidPolicy?
}

public enum InvalidPolicy: String, Sendable { case reject, drop }

/// One transform step, with its position for messages.
public struct TransformSpec: Sendable {
    public var kind: TransformKind
    public var position: SourcePosition
    public var path: String
}

/// The transforms a field can apply, in order (see docs/mappings.md).
public enum TransformKind: Sendable {
    case trim
    case foldWidth
    case upper
    case lower
    case removeSpaces
    /// Keep the capture group of the first match (whole match for group 0); no match -> missing.
    case regex(pattern: String, group: Int)
    /// Split on a separator and keep one part (negative index counts from the end).
    case split(separator: String, index: Int)
    /// Join an array value's scalar items.
    case join(separator: String)
    case replace(from: String, to: String)
    /// Left-pad to a length (restores leading zeros that spreadsheets strip: 1 -> 01).
    case pad(length: Int, with: Character)
    case prefix(String)
    case suffix(String)
    /// Parse with explicit formats (yyyy, MM, M, dd, d, yy, HH, mm, ss) before the catalog's formats.
    case date(formats: [String])
    /// Look the value up in a named crosswalk (or an inline table).
    case crosswalk(name: String)
    /// Normalize with a catalog identifier rule (`citizen_id`, `uscc`, `mobile`, `landline`).
    case identifier(rule: String)
    /// Map a free-text value to `true`/`false` with custom words.
    case boolean(trueWords: [String], falseWords: [String])
}

/// A condition on a record (for `skip`, `when`, `skipWhen`).
public indirect enum ConditionSpec: Sendable {
    case equals(SourcePath, [String])
    case empty(SourcePath)
    case present(SourcePath)
    case matches(SourcePath, String)
    case not(ConditionSpec)
    case all([ConditionSpec])
    case any([ConditionSpec])
}
