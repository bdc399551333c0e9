import JSON5

/// One kind of canonical record (Person, Household, Address, Organization, or a fact about a person).
public struct Resource: Sendable {
    /// The resource name, UpperCamelCase (`Person`).
    public var name: String
    public var title: LocalizedText
    public var description: LocalizedText
    /// The fields whose values together identify one record (`["citizen_id"]`).
    public var identityKey: [String]
    /// How records without a usable identity key are matched (nil: they are not).
    public var matching: MatchRules?
    /// Fields in catalog order.
    public private(set) var fields: [Field]
    /// Where the resource is declared.
    public var file: String
    public var position: SourcePosition?

    private var fieldIndex: [String: Int]

    public init(name: String, title: LocalizedText, description: LocalizedText, identityKey: [String],
                fields: [Field], file: String = "", position: SourcePosition? = nil) {
        self.name = name
        self.title = title
        self.description = description
        self.identityKey = identityKey
        self.fields = fields
        self.file = file
        self.position = position
        fieldIndex = Dictionary(fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The field with this name.
    public func field(_ name: String) -> Field? {
        fieldIndex[name].map { fields[$0] }
    }

    /// The fields of the identity key, in key order.
    public var identityFields: [Field] { identityKey.compactMap { field($0) } }
}
