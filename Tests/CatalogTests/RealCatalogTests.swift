import Foundation
import Testing
@testable import Catalog

/// The repository root, found from this file's path (Tests/CatalogTests/...).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

let catalogDirectory = repositoryRoot + "/mappings/catalog"

@Suite struct RealCatalogTests {
    func load() throws -> Catalog {
        do {
            return try Catalog.load(directory: catalogDirectory)
        } catch {
            Issue.record("mappings/catalog does not load:\n\(error)")
            throw error
        }
    }

    @Test func theCatalogInTheRepositoryLoads() throws {
        let catalog = try load()
        #expect(catalog.departments.map(\.id) == ["police", "social-security", "health", "civil-affairs"])
        for name in ["Person", "Household", "Address", "Organization", "SubsistenceAllowance", "Disability",
                     "SocialInsuranceEnrollment", "HealthSummary"] {
            #expect(catalog.resource(name) != nil, "missing resource \(name)")
        }
    }

    @Test func identityKeysAreTheOnesTheDesignNames() throws {
        let catalog = try load()
        #expect(catalog.resource("Person")?.identityKey == ["citizen_id"])
        #expect(catalog.resource("Household")?.identityKey == ["household_number", "registering_office"])
        #expect(catalog.resource("Organization")?.identityKey == ["uscc"])
        #expect(catalog.resource("Address")?.identityKey == ["address_code"])
        #expect(catalog.resource("Person")?.field("citizen_id")?.identifierRule == .citizenID)
        #expect(catalog.resource("Organization")?.field("uscc")?.identifierRule == .uscc)
    }

    @Test func personFactsHaveTheRightAuthorities() throws {
        let person = try #require(try load().resource("Person"))
        #expect(person.field("name")?.authorities.first == "police")
        #expect(person.field("registered_address")?.authorities.first == "police")
        #expect(person.field("marital_status")?.authorities.first == "civil-affairs")
        #expect(person.field("date_of_death")?.authorities.first == "civil-affairs")
        #expect(person.field("sex")?.type == .code(table: "sex"))
        #expect(person.field("date_of_birth")?.type == .date)
        #expect(person.field("community_code")?.type == .code(table: "division"))
        let health = try #require(try load().resource("HealthSummary"))
        #expect(health.field("blood_group")?.authorities == ["health"])
        #expect(health.field("blood_group")?.sensitivity == .special)
    }

    @Test func codeTablesHoldTheNationalCodes() throws {
        let catalog = try load()
        let ethnic = try #require(catalog.codeTable("ethnic_group"))
        #expect(ethnic.entries.count == 58)
        #expect(ethnic.label(for: "01") == "汉族")
        #expect(ethnic.label(for: "56") == "基诺族")
        #expect(ethnic.contains("98"))
        #expect(!ethnic.contains("1"))
        #expect(ethnic.normalizedCode("1") == "01")
        #expect(ethnic.normalizedCode("０１") == "01")
        #expect(ethnic.normalizedCode("57") == nil)
        let sex = try #require(catalog.codeTable("sex"))
        #expect(sex.entries.map(\.code) == ["0", "1", "2", "9"])
        #expect(sex.code(forLabel: "女性") == "2")
        let relationship = try #require(catalog.codeTable("relationship"))
        #expect(relationship.label(for: "02") == "户主")
        #expect(relationship.label(for: "12") == "妻")
        #expect(relationship.label(for: "22") == "长子")
        #expect(relationship.label(for: "99") == "非亲属")
        #expect(catalog.codeTable("marital_status")?.contains("21") == true)
        #expect(catalog.codeTable("insurance_type")?.contains("390") == true)
        #expect(catalog.codeTable("blood_group")?.label(for: "4") == "AB型")
    }

    @Test func divisionTableHasTheDemoDistrict() throws {
        let division = try #require(try load().codeTable("division"))
        let streets = division.entries.filter { $0.code.hasSuffix("000") && $0.code != "510108000000" }
        let communities = division.entries.filter { !$0.code.hasSuffix("000") }
        #expect(division.contains("510108000000"))
        #expect(streets.count == 14)
        #expect(communities.count == 112)
        #expect(division.entries.allSatisfy { $0.code.count == 12 && $0.code.hasPrefix("510108") })
    }

    @Test func provinceTableMatchesTheCitizenIDRule() throws {
        let province = try #require(try load().codeTable("province"))
        #expect(Set(province.entries.compactMap { Int($0.code) }) == CitizenID.provinceCodes)
    }

    @Test func docsCatalogIsUpToDate() throws {
        let catalog = try load()
        let path = repositoryRoot + "/docs/catalog.md"
        let current = try String(contentsOfFile: path, encoding: .utf8)
        let expected = CatalogDocument.updating(current, with: catalog)
        #expect(current == expected, "docs/catalog.md is out of date: run `swift run recordonce catalog --update-docs docs/catalog.md`")
    }
}

@Suite struct CodeLookupTests {
    @Test func normalizedCodeRestoresWhatSpreadsheetsStrip() throws {
        let catalog = try Catalog.load(directory: catalogDirectory)
        let relationship = try #require(catalog.codeTable("relationship"))
        #expect(relationship.normalizedCode("2") == "02")
        #expect(relationship.normalizedCode(" 02 ") == "02")
        #expect(relationship.normalizedCode("98") == nil)
        #expect(relationship.normalizedCode("") == nil)
        #expect(relationship.normalizedCode("x") == nil)
        let insurance = try #require(catalog.codeTable("insurance_type"))
        #expect(insurance.normalizedCode("110") == "110")
        #expect(insurance.normalizedCode("11") == nil)
        let sex = try #require(catalog.codeTable("sex"))
        #expect(sex.normalizedCode("１") == "1")
        #expect(sex.normalizedCode("01") == nil)
    }

    @Test func identifierRulesDispatchByName() {
        #expect(IdentifierRule(rawValue: "citizen_id")?.normalize("110105491231002", today: fixedToday).map(\.normalized)
                == .success("11010519491231002X"))
        #expect(IdentifierRule(rawValue: "uscc")?.normalize("91350100M000100Y43").map(\.normalized) == .success("91350100M000100Y43"))
        #expect(IdentifierRule(rawValue: "mobile")?.normalize("138-1234-5678").map(\.normalized) == .success("13812345678"))
        #expect(IdentifierRule(rawValue: "landline")?.normalize("13812345678").map(\.normalized) == .failure(.invalidAreaCode))
        #expect(IdentifierRule(rawValue: "ssn") == nil)
    }

    @Test func fieldTypeSpellingsRoundTrip() {
        for spelling in ["string", "code(sex)", "date", "datetime", "integer", "decimal", "boolean", "reference(Person)"] {
            #expect(FieldType(spelling: spelling)?.description == spelling)
        }
        for bad in ["int", "code()", "code(sex", "reference(Per son)", "String", ""] {
            #expect(FieldType(spelling: bad) == nil)
        }
    }
}
