import JSON5

/// One canonical field of a resource, with its type, privacy class and ranked authorities.
public struct Field: Sendable {
    /// snake_case field name (`citizen_id`, `date_of_birth`).
    public var name: String
    public var type: FieldType
    /// A record without a value for this field is rejected.
    public var required: Bool
    public var sensitivity: Sensitivity
    public var sharing: SharingType
    /// Department ids in rank order: the first one that has a value wins; a lower-ranked
    /// department that disagrees opens a conflict.
    public var authorities: [String]
    public var description: LocalizedText
    /// The identifier rule that normalizes and checks values (citizen ID, USCC, phone numbers...).
    public var identifierRule: IdentifierRule?
    /// How the feed should mask the value for subscribers without a grant for it.
    public var masking: MaskingHint?
    /// Where the field is declared in its catalog file.
    public var position: SourcePosition?
    /// Where the parts of the declaration are, so cross-file checks can point at the exact value.
    var partPositions = PartPositions()

    struct PartPositions: Sendable {
        var type: SourcePosition?
        var authorities: [SourcePosition] = []
        var identifier: SourcePosition?
    }

    public init(name: String, type: FieldType, required: Bool = false, sensitivity: Sensitivity = .internal,
                sharing: SharingType = .conditional, authorities: [String] = [],
                description: LocalizedText = LocalizedText(zh: "", en: ""), identifierRule: IdentifierRule? = nil,
                masking: MaskingHint? = nil, position: SourcePosition? = nil) {
        self.name = name
        self.type = type
        self.required = required
        self.sensitivity = sensitivity
        self.sharing = sharing
        self.authorities = authorities
        self.description = description
        self.identifierRule = identifierRule
        self.masking = masking
        self.position = position
    }

    /// The rank of a department among this field's authorities (0 = highest), nil when it is not one.
    public func authorityRank(of department: String) -> Int? {
        authorities.firstIndex(of: department)
    }
}

/// The value type of a field. Catalog files spell it as `string`, `code(sex)`, `reference(Person)`...
public enum FieldType: Sendable, Hashable, CustomStringConvertible {
    case string
    /// A code from the named code table (the catalog stores codes, not labels).
    case code(table: String)
    /// A calendar date, canonical form `YYYY-MM-DD`.
    case date
    /// A date and time, canonical form `YYYY-MM-DDTHH:MM:SS+08:00`.
    case datetime
    case integer
    /// A decimal number kept as text (`1234.50`), never a binary floating point value.
    case decimal
    case boolean
    /// The identity key value of a record of another resource.
    case reference(resource: String)

    /// Parses the catalog spelling; nil when it is not one of the types.
    public init?(spelling: String) {
        switch spelling {
        case "string": self = .string
        case "date": self = .date
        case "datetime": self = .datetime
        case "integer": self = .integer
        case "decimal": self = .decimal
        case "boolean": self = .boolean
        default:
            if let table = Self.argument(of: spelling, prefix: "code(") {
                self = .code(table: table)
            } else if let resource = Self.argument(of: spelling, prefix: "reference(") {
                self = .reference(resource: resource)
            } else {
                return nil
            }
        }
    }

    private static func argument(of spelling: String, prefix: String) -> String? {
        guard spelling.hasPrefix(prefix), spelling.hasSuffix(")") else { return nil }
        let inner = spelling.dropFirst(prefix.count).dropLast()
        guard !inner.isEmpty, inner.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "-" }) else { return nil }
        return String(inner)
    }

    /// The catalog spelling (`code(sex)`).
    public var description: String {
        switch self {
        case .string: "string"
        case .code(let table): "code(\(table))"
        case .date: "date"
        case .datetime: "datetime"
        case .integer: "integer"
        case .decimal: "decimal"
        case .boolean: "boolean"
        case .reference(let resource): "reference(\(resource))"
        }
    }

    /// The code table of a code field.
    public var codeTable: String? { if case .code(let t) = self { t } else { nil } }
}

/// How sensitive a field is (drives masking and grants in the feed).
public enum Sensitivity: String, Sendable, Hashable, CaseIterable, Comparable {
    /// May be shown to anyone (an organization's name, a community's code).
    case `public`
    /// Government use only, not personal (household type, enrollment status).
    case `internal`
    /// Personal information: masked unless a grant allows it (name, ID number, phone, address).
    case sensitive
    /// Sensitive personal information under PIPL art. 28 (health, disability, financial aid, minors).
    case special

    public static func < (a: Sensitivity, b: Sensitivity) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// The government data sharing type of a field.
public enum SharingType: String, Sendable, Hashable, CaseIterable {
    case unconditional
    /// Only to named departments or for named purposes.
    case conditional
    case notShared = "not_shared"
}

/// How a value is shown to someone who may not see it in full (standards.md, masking conventions).
public enum MaskingHint: String, Sendable, Hashable, CaseIterable {
    /// First 6 and last 4 characters kept: `510108********1234`.
    case idNumber = "id_number"
    /// First 3 and last 4 digits kept: `138****1234`.
    case mobile
    /// First character kept: `张*`.
    case name
    /// Kept to street level.
    case address
    /// Not shown at all.
    case suppress
}
