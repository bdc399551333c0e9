/// The canonical catalog: every resource the hub keeps, its fields, and the code tables they use.
///
/// Loaded from JSON5 data files (see ``load(directory:)`` and docs/catalog.md); admins change the
/// data without a rebuild, and a load reports every problem at once.
public struct Catalog: Sendable {
    /// Department ids that may appear as field authorities, with their names.
    public var departments: [Department]
    /// Resources in the order the catalog lists them (read-only: lookups are indexed).
    public private(set) var resources: [Resource]
    /// Code tables sorted by name.
    public private(set) var codeTables: [CodeTable]

    private var resourceIndex: [String: Int]
    private var codeTableIndex: [String: Int]

    public init(departments: [Department], resources: [Resource], codeTables: [CodeTable]) {
        self.departments = departments
        self.resources = resources
        self.codeTables = codeTables
        resourceIndex = Dictionary(resources.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        codeTableIndex = Dictionary(codeTables.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// The resource with this name (`Person`, `Household`, ...).
    public func resource(_ name: String) -> Resource? {
        resourceIndex[name].map { resources[$0] }
    }

    /// The code table with this name (`sex`, `ethnic_group`, ...).
    public func codeTable(_ name: String) -> CodeTable? {
        codeTableIndex[name].map { codeTables[$0] }
    }

    /// The department with this id (`police`, `social-security`, `health`, `civil-affairs`).
    public func department(_ id: String) -> Department? {
        departments.first { $0.id == id }
    }

    /// Reads and checks a catalog folder: `catalog.json5`, `resources/*.json5`, `codes/*.json5`.
    public static func load(directory: String) throws(CatalogLoadError) -> Catalog {
        try CatalogLoader(directory: directory).load()
    }
}

/// A department that supplies data to the hub and can be an authority for fields.
public struct Department: Sendable, Hashable {
    /// The id used everywhere: authorities, mappings, adapters.
    public var id: String
    public var name: LocalizedText

    public init(id: String, name: LocalizedText) {
        self.id = id
        self.name = name
    }
}

/// Text in Chinese and English.
public struct LocalizedText: Sendable, Hashable {
    public var zh: String
    public var en: String

    public init(zh: String, en: String) {
        self.zh = zh
        self.en = en
    }
}
