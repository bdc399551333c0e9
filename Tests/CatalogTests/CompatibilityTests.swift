import Testing
@testable import Catalog

/// `CatalogCompatibility.changes`: what differs between two catalogs, and which type changes widen.
@Suite struct CompatibilityTests {
    static let text = LocalizedText(zh: "", en: "")

    static func catalog(fields: [Field], identityKey: [String] = ["id"], codes: [String] = ["1", "2"],
                        departments: [String] = ["police"]) -> Catalog {
        Catalog(departments: departments.map { Department(id: $0, name: text) },
                resources: [Resource(name: "Thing", title: text, description: text, identityKey: identityKey, fields: fields)],
                codeTables: [CodeTable(name: "kind", title: text, entries: codes.map { CodeTable.Entry(code: $0, label: $0) })])
    }

    static let base: [Field] = [
        Field(name: "id", type: .string, required: true),
        Field(name: "count", type: .integer),
        Field(name: "kind", type: .code(table: "kind")),
        Field(name: "born", type: .date),
    ]

    @Test func theSameCatalogHasNoChanges() {
        #expect(CatalogCompatibility.changes(from: Self.catalog(fields: Self.base), to: Self.catalog(fields: Self.base)).isEmpty)
    }

    @Test func everyKindOfChangeIsFoundAtOnce() {
        var fields = Self.base
        fields[1] = Field(name: "count", type: .decimal)                 // widened
        fields[2] = Field(name: "kind", type: .code(table: "kind"), required: true)
        fields[3] = Field(name: "birth_date", type: .date)               // renamed
        fields.append(Field(name: "note", type: .string))
        let new = Self.catalog(fields: fields, identityKey: ["id", "kind"], codes: ["2", "3"], departments: ["police", "federation"])
        let changes = CatalogCompatibility.changes(from: Self.catalog(fields: Self.base), to: new)
        let kinds = changes.map(\.kind)
        #expect(kinds == [.identityKeyChanged, .typeWidened, .becameRequired, .fieldRemoved, .fieldAdded, .fieldAdded,
                          .codeRemoved, .codeAdded, .departmentAdded], "\(changes.map(\.message))")
        #expect(changes.first { $0.kind == .fieldRemoved }?.message == "field Thing.born is removed (renamed to birth_date?)")
        #expect(changes.first { $0.kind == .codeRemoved }?.code == "1")
    }

    @Test func onlyIntegerToDecimalAndAnythingToStringWiden() {
        #expect(CatalogCompatibility.widens(from: .integer, to: .decimal))
        #expect(CatalogCompatibility.widens(from: .date, to: .string))
        #expect(CatalogCompatibility.widens(from: .code(table: "kind"), to: .string))
        #expect(!CatalogCompatibility.widens(from: .decimal, to: .integer))
        #expect(!CatalogCompatibility.widens(from: .string, to: .date))
        #expect(!CatalogCompatibility.widens(from: .code(table: "kind"), to: .integer))
        #expect(!CatalogCompatibility.widens(from: .date, to: .datetime))
    }

    @Test func removedResourcesTablesAndDepartmentsAreFound() {
        let old = Self.catalog(fields: Self.base, departments: ["police", "health"])
        let new = Catalog(departments: [Department(id: "police", name: Self.text)], resources: [], codeTables: [])
        let kinds = Set(CatalogCompatibility.changes(from: old, to: new).map(\.kind))
        #expect(kinds == [.resourceRemoved, .codeTableRemoved, .departmentRemoved])
    }
}
