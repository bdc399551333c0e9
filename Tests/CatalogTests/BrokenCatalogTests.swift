import Foundation
import JSON5
import Testing
@testable import Catalog

/// A catalog folder in a temporary directory, built from file texts.
struct TemporaryCatalog {
    let directory: String

    init(_ files: [String: String]) throws {
        directory = NSTemporaryDirectory() + "catalog-test-" + UUID().uuidString
        for (path, text) in files {
            let full = directory + "/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try Data(text.utf8).write(to: URL(fileURLWithPath: full))
        }
    }

    func load() -> Result<Catalog, CatalogLoadError> {
        defer { try? FileManager.default.removeItem(atPath: directory) }
        return Result { () throws(CatalogLoadError) in try Catalog.load(directory: directory) }
    }
}

let validCatalogFile = """
{
  departments: [
    { id: 'police', name: { zh: '公安', en: 'Police' } },
    { id: 'health', name: { zh: '卫生', en: 'Health' } },
  ],
  resources: ['Person'],
}
"""

let validSexTable = """
{
  table: 'sex',
  title: { zh: '性别', en: 'Sex' },
  source: 'GB/T 2261.1',
  codes: [
    { code: '1', label: '男性' },
    { code: '2', label: '女性' },
  ],
}
"""

let validPerson = """
{
  resource: 'Person',
  title: { zh: '人口', en: 'Person' },
  description: { zh: '人', en: 'A person' },
  identityKey: ['citizen_id'],
  fields: [
    { name: 'citizen_id', type: 'string', required: true, sensitivity: 'sensitive', sharing: 'conditional',
      authorities: ['police'], identifier: 'citizen_id', masking: 'id_number', description: { zh: '号', en: 'ID' } },
    { name: 'sex', type: 'code(sex)', sensitivity: 'internal', sharing: 'conditional',
      authorities: ['police', 'health'], description: { zh: '性别', en: 'Sex' } },
  ],
}
"""

@Suite struct BrokenCatalogTests {
    func problems(_ files: [String: String]) throws -> [CatalogProblem] {
        switch try TemporaryCatalog(files).load() {
        case .success: return []
        case .failure(let error): return error.problems
        }
    }

    func find(_ problems: [CatalogProblem], _ fragment: String) -> CatalogProblem? {
        problems.first { $0.message.contains(fragment) }
    }

    @Test func aSmallValidCatalogLoads() throws {
        let result = try TemporaryCatalog(["catalog.json5": validCatalogFile, "codes/sex.json5": validSexTable,
                                           "resources/person.json5": validPerson]).load()
        let catalog = try result.get()
        #expect(catalog.resource("Person")?.field("sex")?.authorities == ["police", "health"])
        #expect(catalog.resource("Person")?.field("sex")?.position == SourcePosition(line: 9, column: 5))
        #expect(catalog.codeTable("sex")?.label(for: "2") == "女性")
    }

    @Test func everyProblemIsReportedAtOnceWithItsLine() throws {
        let person = """
        {
          resource: 'Person',
          title: { zh: '人口', en: 'Person' },
          description: { zh: '人', en: 'A person' },
          identityKey: ['citizen_id', 'missing_key'],
          fields: [
            { name: 'citizen_id', type: 'string', required: true, sensitivity: 'sensitive', sharing: 'conditional',
              authorities: ['police'], description: { zh: '号', en: 'ID' } },
            { name: 'sex', type: 'code(gender)', sensitivity: 'internal', sharing: 'conditional',
              authorities: ['police'], description: { zh: '性别', en: 'Sex' } },
            { name: 'age', type: 'int', sensitivity: 'internal', sharing: 'conditional',
              authorities: ['police'], description: { zh: '年龄', en: 'Age' } },
            { name: 'name', type: 'string', sensitivity: 'sensitive', sharing: 'conditional',
              authorities: ['police', 'tax-office'], description: { zh: '姓名', en: 'Name' } },
            { name: 'name', type: 'string', sensitivity: 'sensitive', sharing: 'conditional',
              authorities: ['police'], description: { zh: '姓名', en: 'Name' } },
            { name: 'home', type: 'reference(Building)', sensitivity: 'secret', sharing: 'conditional',
              authorities: ['police'], descripton: { zh: '住', en: 'Home' } },
          ],
        }
        """
        let broken = """
        {
          table: 'marital_status',
          codes: [ { code: '10', label: '未婚' } { code: '20', label: '已婚' } ],
        }
        """
        let found = try problems(["catalog.json5": validCatalogFile, "codes/sex.json5": validSexTable,
                                  "codes/marital.json5": broken, "resources/person.json5": person])
        let described = found.map(\.description).joined(separator: "\n")

        let missingKey = try #require(find(found, "identity key field 'missing_key'"), "\(described)")
        #expect(missingKey.position?.line == 5)
        let table = try #require(find(found, "code table 'gender' does not exist"), "\(described)")
        #expect(table.position == SourcePosition(line: 9, column: 26))
        #expect(table.path == "Person.fields.sex.type")
        let type = try #require(find(found, "unknown field type 'int'"), "\(described)")
        #expect(type.position == SourcePosition(line: 11, column: 26))
        let authority = try #require(find(found, "'tax-office' is not a known department"), "\(described)")
        #expect(authority.position == SourcePosition(line: 14, column: 31))
        #expect(authority.path == "Person.fields.name.authorities[1]")
        let duplicate = try #require(find(found, "duplicate field 'name' (first defined at line 13)"), "\(described)")
        #expect(duplicate.position?.line == 15)
        let reference = try #require(find(found, "unknown value 'secret'"), "\(described)")
        #expect(reference.position?.line == 17)
        let typo = try #require(find(found, "unknown key 'descripton'"), "\(described)")
        #expect(typo.position?.line == 18)
        let syntax = try #require(find(found, "expected ',' or ']' after array element"), "\(described)")
        #expect(syntax.file.hasSuffix("codes/marital.json5"))
        #expect(syntax.position == SourcePosition(line: 3, column: 40))
        #expect(syntax.description.contains("codes/marital.json5:3:40: expected ','"))
    }

    @Test func crossFileProblems() throws {
        let person = validPerson.replacingOccurrences(of: "required: true, ", with: "")
        let catalogFile = validCatalogFile.replacingOccurrences(of: "resources: ['Person']", with: "resources: ['Person', 'Household']")
        let extra = """
        { resource: 'Orphan', title: { zh: '孤', en: 'Orphan' }, description: { zh: '孤', en: 'O' }, identityKey: ['id'],
          fields: [ { name: 'id', type: 'reference(Person)', required: true, sensitivity: 'public', sharing: 'unconditional',
                      authorities: [], identifier: 'uscc', description: { zh: '号', en: 'id' } } ] }
        """
        let found = try problems(["catalog.json5": catalogFile, "codes/sex.json5": validSexTable,
                                  "codes/sex2.json5": validSexTable,
                                  "resources/person.json5": person, "resources/orphan.json5": extra])
        let described = found.map(\.description).joined(separator: "\n")
        #expect(find(found, "identity key field 'citizen_id' must be required") != nil, "\(described)")
        #expect(find(found, "resource 'Household' is listed but no file") != nil, "\(described)")
        #expect(find(found, "resource 'Orphan' is not listed") != nil, "\(described)")
        #expect(find(found, "at least one authoritative department") != nil, "\(described)")
        #expect(find(found, "code table 'sex' is already defined") != nil, "\(described)")
    }

    @Test func codeTableMistakes() throws {
        let table = """
        {
          table: 'ethnic',
          title: { zh: '民族', en: 'Ethnic group' },
          codes: [
            { code: 01, label: '汉族' },
            { code: '02', label: '蒙古族' },
            { code: '02', label: '回族' },
            { code: '03' },
          ],
        }
        """
        let found = try problems(["catalog.json5": validCatalogFile, "codes/sex.json5": validSexTable,
                                  "codes/ethnic.json5": table, "resources/person.json5": validPerson])
        let described = found.map(\.description).joined(separator: "\n")
        // `01` is not even valid JSON5 (leading zero): reported as a syntax error with its position.
        #expect(find(found, "leading zeros")?.position == SourcePosition(line: 5, column: 13), "\(described)")

        let fixed = table.replacingOccurrences(of: "code: 01,", with: "code: 1,")
        let again = try problems(["catalog.json5": validCatalogFile, "codes/sex.json5": validSexTable,
                                  "codes/ethnic.json5": fixed, "resources/person.json5": validPerson])
        let described2 = again.map(\.description).joined(separator: "\n")
        #expect(find(again, "codes must be strings")?.position?.line == 5, "\(described2)")
        #expect(find(again, "code '02' appears twice (first at line 6)")?.position?.line == 7, "\(described2)")
        #expect(find(again, "missing required key 'label'") != nil, "\(described2)")
    }

    @Test func missingFoldersAndFilesAreProblemsNotCrashes() throws {
        let found = try problems([:])
        #expect(find(found, "file is missing") != nil)
        #expect(find(found, "folder is missing") != nil)
    }

    @Test func errorDescriptionListsEveryProblem() {
        let error = CatalogLoadError(problems: [
            CatalogProblem(file: "a.json5", position: SourcePosition(line: 3, column: 5), path: "Person.fields.x", message: "bad"),
            CatalogProblem(file: "b.json5", position: nil, path: "", message: "worse"),
        ])
        #expect(error.description == "catalog has 2 problems:\n  a.json5:3:5: Person.fields.x: bad\n  b.json5: worse")
    }
}
