import Catalog
import Foundation
import Testing
@testable import DemoDepartments

/// The generator's own promises: determinism, valid unique IDs, household structure, overlap.
@Suite struct DistrictGeneratorTests {
    @Test func sameSeedGivesIdenticalFilesAndAnotherSeedDoesNot() throws {
        let a = try TemporaryDirectory(), b = try TemporaryDirectory(), c = try TemporaryDirectory()
        _ = try DistrictFileWriter(views: DepartmentViews(district: SyntheticDistrict(seed: 7, residents: 2_000))).write(to: a.path)
        _ = try DistrictFileWriter(views: DepartmentViews(district: SyntheticDistrict(seed: 7, residents: 2_000))).write(to: b.path)
        _ = try DistrictFileWriter(views: DepartmentViews(district: SyntheticDistrict(seed: 8, residents: 2_000))).write(to: c.path)
        for name in DepartmentSystem.allCases.map(\.fileName) + ["manifest.json"] {
            let first = try Data(contentsOf: URL(fileURLWithPath: a.path + "/" + name))
            let second = try Data(contentsOf: URL(fileURLWithPath: b.path + "/" + name))
            #expect(!first.isEmpty, "\(name) is empty")
            #expect(first == second, "\(name) differs between two runs with the same seed")
        }
        for department in [DepartmentSystem.policeHukou, .socialSecurity, .healthRecords] {
            let first = try Data(contentsOf: URL(fileURLWithPath: a.path + "/" + department.fileName))
            let other = try Data(contentsOf: URL(fileURLWithPath: c.path + "/" + department.fileName))
            #expect(first != other, "\(department.fileName) is the same for seeds 7 and 8")
        }
    }

    @Test func householdsCanBeRebuiltInAnyOrder() {
        let district = SyntheticDistrict(seed: 42, residents: 5_000)
        let late = district.household(district.householdCount - 1)
        let early = district.household(3)
        #expect(district.household(3) == early)
        #expect(district.household(district.householdCount - 1) == late)
        let person = early.members.last!
        #expect(district.person(person.index) == person)
        #expect(district.householdIndex(ofPerson: person.index) == 3)
        #expect(district.memberRange(ofHousehold: district.householdCount - 1).upperBound == 5_000)
        let views = DepartmentViews(district: district)
        let police = views.records(.policeHukou, person: person.index)
        #expect(police.count == 1 && police[0].personIndex == person.index)
        #expect(views.records(.policeHukou, household: 3).count == early.members.count)
    }

    @Test func everyIDIsValidUniqueAndMatchesSexAndBirthDate() {
        let district = SyntheticDistrict(seed: 2026, residents: 100_000)
        var seen = Set<String>()
        seen.reserveCapacity(100_000)
        var invalid = 0, mismatched = 0, natives = 0, outOfRange = 0
        let today = CivilDate(year: 2026, month: 1, day: 1)!
        for h in 0..<district.householdCount {
            for person in district.household(h).members {
                if !CitizenID.isValid(person.citizenID, today: today) { invalid += 1 }
                seen.insert(person.citizenID)
                let bytes = Array(person.citizenID.utf8)
                let parityMale = (bytes[16] - 0x30) % 2 == 1
                let (y, m, d) = person.birthDate.components
                var encoded = 0
                for k in 6..<14 { encoded = encoded * 10 + Int(bytes[k] - 0x30) }
                if parityMale != person.isMale || encoded != y * 10_000 + m * 100 + d { mismatched += 1 }
                if person.citizenID.hasPrefix("510108") { natives += 1 }
                if !(1930...2025).contains(y) { outOfRange += 1 }
            }
        }
        #expect(invalid == 0)
        #expect(mismatched == 0)
        #expect(outOfRange == 0, "births outside 1930-2025")
        #expect(seen.count == 100_000, "IDs are not unique")
        #expect((0.65...0.90).contains(Double(natives) / 100_000), "share of 510108 IDs: \(natives)")
    }

    @Test func eachHouseholdHasOneHeadFirstAndKnownRelationships() {
        let district = SyntheticDistrict(seed: 11, residents: 10_000)
        let known: Set<String> = ["户主", "配偶", "夫", "妻", "独生子", "长子", "次子", "三子", "子", "女", "独生女", "长女", "次女", "三女",
                                  "儿媳", "女婿", "孙子", "孙女", "父亲", "母亲", "公公", "婆婆", "弟", "妹妹", "非亲属"]
        var sizes = [Int](repeating: 0, count: 7)
        var marriedMinors = 0
        var parentsPerHousehold: [Int] = []
        var badHeads = 0, badSizes = 0, unknownLabels = 0, wrongSex = 0
        for h in 0..<district.householdCount {
            let household = district.household(h)
            if household.members.first?.relationship != "户主" || household.members.filter({ $0.relationship == "户主" }).count != 1 {
                badHeads += 1
            }
            if !(1...6).contains(household.members.count) { badSizes += 1 }
            sizes[household.members.count] += 1
            parentsPerHousehold.append(household.members.filter { ["父亲", "母亲"].contains($0.relationship) }.count)
            for person in household.members {
                if !known.contains(person.relationship) { unknownLabels += 1 }
                let age = person.age(on: SyntheticDistrict.referenceDay)
                if age < 18, !person.maritalStatus.isEmpty { marriedMinors += 1 }
                if person.relationship == "妻" && person.isMale { wrongSex += 1 }
                if ["长子", "次子", "独生子", "孙子", "父亲"].contains(person.relationship) && !person.isMale { wrongSex += 1 }
            }
        }
        #expect(marriedMinors == 0)
        #expect(badHeads == 0, "households without exactly one head, first")
        #expect(badSizes == 0 && unknownLabels == 0 && wrongSex == 0)
        #expect(parentsPerHousehold.allSatisfy { $0 <= 2 }, "more than two parents in a household")
        let mean = Double(10_000) / Double(district.householdCount)
        #expect((2.3...2.9).contains(mean), "mean household size \(mean)")
        #expect(sizes[1] > sizes[5] && sizes[2] > sizes[6])
    }

    @Test func departmentsOverlapInRealisticShares() {
        let residents = 10_000
        let views = DepartmentViews(district: SyntheticDistrict(seed: 5, residents: residents))
        var insured = Set<Int>(), health = 0, dibao = 0, marriages = 0, deaths = 0, police = 0
        let households = views.district.householdCount
        for h in 0..<households {
            let household = views.district.household(h)
            police += views.records(.policeHukou, household: household).count
            for record in views.records(.socialSecurity, household: household) { insured.insert(record.personIndex) }
            health += views.records(.healthRecords, household: household).count
            dibao += views.records(.civilDibao, household: household).count
            marriages += views.records(.civilMarriage, household: household).count
            deaths += views.records(.civilDeath, household: household).count
        }
        let n = Double(residents)
        #expect(police == residents)
        #expect((0.62...0.78).contains(Double(insured.count) / n), "social security share \(Double(insured.count) / n)")
        #expect((0.81...0.89).contains(Double(health) / n), "health share \(Double(health) / n)")
        #expect((0.013...0.027).contains(Double(dibao) / Double(households)), "dibao share of households")
        #expect((0.003...0.008).contains(Double(marriages) / n), "marriage registrations per resident")
        #expect((0.0035...0.009).contains(Double(deaths) / n), "deaths per resident")
    }

    @Test func divisionCodesAreTheCatalogsStreetsAndCommunities() throws {
        let catalog = try Catalog.load(directory: RepositoryPaths.catalog)
        let table = try #require(catalog.codeTable("division"))
        let codes = Set(table.entries.map(\.code))
        let communities = DistrictGeography.allCommunityCodes
        #expect(communities.count == 112)
        for code in communities { #expect(codes.contains(code), "community \(code) not in the catalog") }
        for street in 0..<14 { #expect(codes.contains(DistrictGeography.streetCode(street))) }
        let household = SyntheticDistrict(seed: 1, residents: 50).household(0)
        #expect(codes.contains(household.communityCode))
    }

    @Test func rareNameCharactersRoundTripThroughGB18030() {
        let gb18030 = String.Encoding(rawValue: 0x8000_0632)
        for character in NamePools.rareCharacters {
            let name = "刘" + character
            let data = name.data(using: gb18030)
            #expect(data != nil, "cannot encode a rare character")
            if let data { #expect(String(data: data, encoding: gb18030) == name) }
        }
    }

    @Test func cleanViewsHaveNoMessAndRealisticOnesDo() {
        let district = SyntheticDistrict(seed: 3, residents: 10_000)
        var realisticDamaged = 0, cleanDamaged = 0, cleanOddDates = 0
        let realistic = DepartmentViews(district: district), clean = DepartmentViews(district: district, messiness: .none)
        for h in 0..<district.householdCount {
            let household = district.household(h)
            for record in realistic.records(.policeHukou, household: household) where record["GMSFHM"]!.contains("E+") || record["GMSFHM"]!.hasSuffix("000") {
                realisticDamaged += 1
            }
            for (k, record) in clean.records(.policeHukou, household: household).enumerated() {
                if record["GMSFHM"] != household.members[k].citizenID { cleanDamaged += 1 }
                if record["CSRQ"]!.count != 8 { cleanOddDates += 1 }
            }
        }
        #expect(cleanDamaged == 0 && cleanOddDates == 0)
        #expect(realisticDamaged > 1 && realisticDamaged < 40, "Excel-damaged IDs: \(realisticDamaged) of 10,000")
    }

    @Test func writingIntoAnUnwritablePlaceFailsWithTheFileNamed() throws {
        let directory = try TemporaryDirectory()
        let blocker = directory.path + "/not-a-directory"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let writer = DistrictFileWriter(views: DepartmentViews(district: SyntheticDistrict(seed: 1, residents: 10)))
        do {
            _ = try writer.write(to: blocker + "/out")
            Issue.record("writing under a regular file should fail")
        } catch {
            #expect(error.file.hasSuffix("out"))
            #expect(!error.description.isEmpty)
        }
    }
}

/// Paths inside the repository, found from this file's location.
enum RepositoryPaths {
    static let root: String = {
        var url = URL(fileURLWithPath: #filePath)
        for _ in 0..<3 { url.deleteLastPathComponent() }
        return url.path
    }()
    static var mappings: String { root + "/mappings" }
    static var catalog: String { root + "/mappings/catalog" }
}

/// A fresh directory under the system's temporary folder, removed when the value goes away.
final class TemporaryDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "district-tests-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}
