import Catalog
import Foundation
import Mapping
import SourceFormats
import Testing
@testable import DemoDepartments

/// The generated files read through the real mappings (mappings/*.json5) exactly as the
/// importer reads them: nearly everything is accepted, rejections are only the intended
/// Excel-damaged IDs, and the departments agree on who is who.
@Suite struct MappingRoundTripTests {
    /// What one department's file gave through its mapping.
    struct Outcome {
        var records = 0, accepted = 0, skipped = 0, readErrors = 0
        var rejectionRules: [String: Int] = [:]
        var warningRules: [String: Int] = [:]
        /// Person citizen_id -> name, as the mapping produced them.
        var persons: [String: String] = [:]
        /// IDs of rows the mapping skipped (deregistered persons), normalized.
        var skippedIDs: Set<String> = []
        var canonical: [CanonicalRecord] = []
        var rejected: Int { rejectionRules.values.reduce(0, +) }
    }

    static let schema: MappingSchema = {
        do { return try MappingSchema.load(catalogDirectory: RepositoryPaths.catalog) } catch { fatalError("catalog: \(error)") }
    }()

    /// Reads `file` with the mapping's read options (NDJSON for a `.ndjson` file of a JSON
    /// source, as `IngestService` does) and applies the compiled mapping to every record.
    static func run(_ department: DepartmentSystem, directory: String) throws -> Outcome {
        let plan = try MappingValidator.load(file: RepositoryPaths.mappings + "/\(department.adapterID).json5", schema: schema)
        var options = plan.source.readOptions
        if options.format == .json, department.fileName.hasSuffix(".ndjson") {
            options.format = .ndjson
            options.recordsPath = nil
        }
        let reader = try SourceReaders.open(path: directory + "/" + department.fileName, options: options)
        var outcome = Outcome()
        while let item = reader.next() {
            guard let record = item.record else {
                outcome.readErrors += 1
                continue
            }
            outcome.records += 1
            let result = plan.apply(record)
            if result.skipped {
                outcome.skipped += 1
                if let key = record.sourceKey, case .success(let id) = CitizenID.normalize(key) { outcome.skippedIDs.insert(id.normalized) }
                continue
            }
            for issue in result.issues {
                if issue.severity == .error { outcome.rejectionRules[issue.rule, default: 0] += 1 } else { outcome.warningRules[issue.rule, default: 0] += 1 }
            }
            guard !result.rejected else { continue }
            outcome.accepted += 1
            for canonical in result.records {
                outcome.canonical.append(canonical)
                if canonical.resource == "Person", let id = canonical["citizen_id"]?.text {
                    outcome.persons[id] = canonical["name"]?.text ?? ""
                }
            }
        }
        return outcome
    }

    @Test func everyDepartmentsFileIsReadByItsMappingWithOnlyTheIntendedRejections() throws {
        let directory = try TemporaryDirectory()
        let district = SyntheticDistrict(seed: 20_251_231, residents: 4_000)
        let summary = try DistrictFileWriter(views: DepartmentViews(district: district)).write(to: directory.path)
        var truth = Set<String>()
        for h in 0..<district.householdCount { for person in district.household(h).members { truth.insert(person.citizenID) } }

        var outcomes: [DepartmentSystem: Outcome] = [:]
        for department in DepartmentSystem.allCases {
            let outcome = try Self.run(department, directory: directory.path)
            outcomes[department] = outcome
            let written = summary.files.first { $0.department == department }!.records
            #expect(outcome.records == written, "\(department.adapterID): read \(outcome.records) of \(written) records")
            #expect(outcome.readErrors == 0, "\(department.adapterID): read errors")
            #expect(Set(outcome.rejectionRules.keys).isSubset(of: ["citizen_id.excel_damaged"]),
                    "\(department.adapterID): unexpected rejections \(outcome.rejectionRules)")
            #expect(Double(outcome.rejected) <= max(3, Double(outcome.records) * 0.006),
                    "\(department.adapterID): \(outcome.rejected) of \(outcome.records) rejected")
            // Every ID that came through normalization (full-width, x, 15 digits) is a real resident's.
            let strangers = outcome.persons.keys.filter { !truth.contains($0) }
            #expect(strangers.isEmpty, "\(department.adapterID): \(strangers.count) IDs that belong to nobody")
        }

        let police = outcomes[.policeHukou]!
        #expect(police.rejected > 0, "the realistic police file should hold a few Excel-damaged IDs")
        #expect(police.warningRules["citizen_id.upgraded_from_15_digits", default: 0] > 0)
        #expect(police.warningRules["date.excel_serial", default: 0] > 0)
        #expect(police.skipped > 0, "deregistered rows (ZXBS = 1) of the year's dead")
        let households = police.canonical.filter { $0.resource == "Household" }.count
        #expect(households >= district.householdCount * 99 / 100)
        #expect(Double(police.persons.count) >= 4_000 * 0.985)

        // The other departments' persons are the register's persons (bar the few damaged IDs).
        let registered = Set(police.persons.keys).union(police.skippedIDs)
        for department in [DepartmentSystem.socialSecurity, .healthRecords, .civilDeath, .civilMarriage] {
            let ids = Set(outcomes[department]!.persons.keys)
            #expect(!ids.isEmpty)
            let outside = ids.subtracting(registered).count
            #expect(Double(outside) <= max(2, Double(ids.count) * 0.02), "\(department.adapterID): \(outside) persons not in the register")
        }
        let dibaoHeads = outcomes[.civilDibao]!.canonical.compactMap { $0["head_citizen_id"]?.text }
        #expect(!dibaoHeads.isEmpty && dibaoHeads.allSatisfy(truth.contains))

        // Health holds a variant of the name for about 0.5% of persons: those open conflicts.
        let health = outcomes[.healthRecords]!
        var compared = 0, differing = 0
        for (id, name) in health.persons {
            guard let registeredName = police.persons[id] else { continue }
            compared += 1
            if registeredName != name { differing += 1 }
        }
        #expect(compared > 2_500)
        #expect(differing > 0 && Double(differing) / Double(compared) < 0.015, "\(differing) of \(compared) names differ")
    }

    @Test func cleanFilesAreAcceptedWhole() throws {
        let directory = try TemporaryDirectory()
        let district = SyntheticDistrict(seed: 99, residents: 2_000)
        _ = try DistrictFileWriter(views: DepartmentViews(district: district, messiness: .none)).write(to: directory.path)
        var registered: [String: String] = [:]
        for h in 0..<district.householdCount { for person in district.household(h).members { registered[person.citizenID] = person.name } }
        for department in DepartmentSystem.allCases {
            let outcome = try Self.run(department, directory: directory.path)
            #expect(outcome.rejected == 0, "\(department.adapterID): \(outcome.rejectionRules)")
            #expect(outcome.accepted + outcome.skipped == outcome.records)
            if department != .civilDibao {
                for (id, name) in outcome.persons { #expect(registered[id] == name, "\(department.adapterID): a person's name or ID differs") }
            }
        }
    }

    @Test func aDamagedFileIsReportedNotSwallowed() throws {
        let directory = try TemporaryDirectory()
        _ = try DistrictFileWriter(views: DepartmentViews(district: SyntheticDistrict(seed: 1, residents: 200)))
            .write(to: directory.path, departments: [.healthRecords])
        let path = directory.path + "/" + DepartmentSystem.healthRecords.fileName
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data("{\"jkdabh\": \"1\", \"sfzh\": \n".utf8))
        handle.closeFile()
        let outcome = try Self.run(.healthRecords, directory: directory.path)
        #expect(outcome.readErrors == 1)
        #expect(outcome.records > 0)
    }
}
