import Foundation

/// One synthetic district as the four departments hold it at the demo's start: the police
/// register, the social insurance rows, the health records, and civil affairs' initial exports.
/// Every department's records are about the same residents, with each one's own messiness.
public final class DemoPopulation: @unchecked Sendable {
    public let district: SyntheticDistrict
    public let views: DepartmentViews
    /// The same district without messiness, for corrections a department makes later.
    let cleanViews: DepartmentViews
    public let police = ChangeStampedTable()
    public let socialSecurity = ChangeStampedTable()
    public let health = ChangeStampedTable()
    /// Civil affairs' initial exports per register.
    public private(set) var civilExports: [DepartmentSystem: [DepartmentRecord]] = [:]
    /// Social insurance row keys per person.
    private(set) var insuranceKeys: [Int: [String]] = [:]

    /// Builds every department's records for a district of `residents` (one pass over the households).
    public init(seed: UInt64, residents: Int, messiness: Messiness = .realistic) {
        district = SyntheticDistrict(seed: seed, residents: residents)
        views = DepartmentViews(district: district, messiness: messiness)
        cleanViews = DepartmentViews(district: district, messiness: .none)
        for h in 0..<district.householdCount {
            let household = district.household(h)
            for record in views.records(.policeHukou, household: household) {
                police.load(key: String(record.personIndex), record: record)
            }
            for record in views.records(.socialSecurity, household: household) {
                let key = Self.insuranceKey(record)
                socialSecurity.load(key: key, record: record)
                insuranceKeys[record.personIndex, default: []].append(key)
            }
            for record in views.records(.healthRecords, household: household) {
                health.load(key: String(record.personIndex), record: record)
            }
            for register in CivilAffairsDrop.registers {
                civilExports[register, default: []] += views.records(register, household: household)
            }
        }
    }

    /// A social insurance row's key: person number and insurance type.
    static func insuranceKey(_ record: DepartmentRecord) -> String {
        (record["AAC001"] ?? "") + "-" + (record["AAE140"] ?? "")
    }
}
