/// Turns a household skeleton into full persons: names, ID numbers, education, work, phone,
/// moving-in date, and whether the person died during the reference year.
struct HouseholdBuilder {
    let district: SyntheticDistrict

    /// Rare (non-GBK) characters per name: a few per 10,000 residents.
    static let rareCharacterRate = 0.0004
    /// Former names (曾用名) on record.
    static let formerNameRate = 0.01

    static let occupations = ["工程师", "教师", "医生", "护士", "会计", "销售人员", "驾驶员", "厨师", "工人", "公务员",
                              "职员", "技术员", "保安", "快递员", "程序员", "设计师", "律师", "文员", "服务员", "电工"]
    static let ethnicCodes = ["01", "03", "04", "07", "15", "06", "11", "08"]
    static let ethnicWeights = [0.968, 0.004, 0.009, 0.009, 0.003, 0.003, 0.002, 0.002]

    func build(index: Int, firstPerson: Int, collective: Bool, skeleton: [HouseholdComposer.Member]) -> SyntheticHousehold {
        let seed = district.seed
        var names = DistrictRandom(seed: seed, stream: RandomStream.names.rawValue, index: index)
        var details = DistrictRandom(seed: seed, stream: RandomStream.details.rawValue, index: index)
        let street = details.weighted([1.1, 1.0, 0.9, 1.2, 0.9, 1.3, 0.8, 1.0, 1.1, 0.9, 0.8, 1.2, 0.9, 0.7])
        let community = details.below(DistrictGeography.communitiesPerStreet)
        let address = Self.address(street: street, collective: collective, rng: &details)
        let number = DistrictGeography.districtCode + (index + 1 < 1_000_000 ? sixDigits(index + 1) : String(index + 1))
        let headEthnic = Self.ethnicCodes[details.weighted(Self.ethnicWeights)]

        // Surnames: the family's (the husband's, or the head's), the spouse's own, the in-law's.
        let headSurname = names.weighted(NamePools.surnameWeights)
        let spouseSurname = names.weighted(NamePools.surnameWeights)
        let headMale = skeleton[0].male
        let hasSpouse = skeleton.count > 1 && skeleton[1].role == .spouse
        let family = NamePools.surnames[headMale || !hasSpouse ? headSurname : spouseSurname]
        var members: [SyntheticPerson] = []
        members.reserveCapacity(skeleton.count)
        let reference = HouseholdComposer.referenceDay
        for (k, m) in skeleton.enumerated() {
            let personIndex = firstPerson + k
            let surname: String
            switch m.role {
            case .head: surname = NamePools.surnames[headSurname]
            case .spouse: surname = NamePools.surnames[spouseSurname]
            case .child, .grandchild: surname = names.chance(0.92) ? family : NamePools.surnames[headMale ? spouseSurname : headSurname]
            case .parent where m.relationship == "父亲": surname = NamePools.surnames[headSurname]
            case .parent where m.relationship == "公公": surname = family
            case .sibling: surname = NamePools.surnames[headSurname]
            default: surname = NamePools.surnames[names.weighted(NamePools.surnameWeights)]
            }
            let name = NamePools.name(surname: surname, male: m.male, rng: &names, rareRate: Self.rareCharacterRate)
            let formerName = names.chance(Self.formerNameRate) ? NamePools.name(surname: surname, male: m.male, rng: &names, rareRate: 0) : ""
            let age = reference.year - m.birth.year
            let ethnic = details.chance(0.9) || collective ? headEthnic : Self.ethnicCodes[details.weighted(Self.ethnicWeights)]
            let retirementAge = m.male ? 60 : 55
            var occupation = "", employer: Int?
            if age >= 18 && age < retirementAge {
                if details.chance(0.8) {
                    occupation = details.pick(Self.occupations)
                    employer = details.below(district.employers.employers.count)
                } else if details.chance(0.3) {
                    occupation = "个体经营"
                }
            } else if age >= retirementAge {
                occupation = "退休人员"
            } else if age >= 6 {
                occupation = "学生"
            }
            let mobile = age >= 14 && age < 85 && details.chance(0.85) ? Self.mobile(&details) : ""
            var movedIn: CalendarDay?
            if m.origin != 0 || details.chance(0.1) {
                let from = max(m.birth.dayNumber + 365 * (age >= 20 ? 18 : 0), CalendarDay(year: 1980, month: 1, day: 1).dayNumber)
                if from < reference.dayNumber { movedIn = CalendarDay(dayNumber: from + details.below(reference.dayNumber - from)) }
            }
            var death = DistrictRandom(seed: seed, stream: RandomStream.death.rawValue, index: personIndex)
            var dateOfDeath: CalendarDay?
            if death.chance(Self.deathRate(age: age)) {
                let yearStart = CalendarDay(year: reference.year, month: 1, day: 1)
                dateOfDeath = max(m.birth, yearStart + death.below(reference.dayNumber - yearStart.dayNumber + 1))
            }
            members.append(SyntheticPerson(
                index: personIndex, householdIndex: index,
                citizenID: district.citizenID(origin: m.origin, birth: m.birth, male: m.male, person: personIndex),
                name: name, formerName: formerName, sex: m.male ? "1" : "2", birthDate: m.birth, ethnicGroup: ethnic,
                relationship: m.relationship, education: Self.education(age: age, birthYear: m.birth.year, rng: &details),
                maritalStatus: m.maritalStatus, occupation: occupation, employer: employer, mobile: mobile,
                movedIn: movedIn, dateOfDeath: dateOfDeath))
        }
        return SyntheticHousehold(index: index, number: number, isCollective: collective, street: street, community: community,
                                  address: address, members: members)
    }

    /// Yearly death probability by age (overall about 0.6% for this age structure).
    static func deathRate(age: Int) -> Double {
        switch age {
        case ..<40: return 0.0004
        case ..<60: return 0.0025
        case ..<70: return 0.008
        case ..<80: return 0.02
        case ..<90: return 0.055
        default: return 0.14
        }
    }

    /// GB/T 4658 top level by age and birth cohort; empty under 12.
    static func education(age: Int, birthYear: Int, rng: inout DistrictRandom) -> String {
        if age < 12 { return "" }
        if age < 15 { return "80" }
        if age < 18 { return "70" }
        let codes = ["10", "20", "30", "40", "60", "70", "80", "90"]
        let weights: [Double]
        switch birthYear {
        case 1985...: weights = [6, 30, 25, 10, 14, 13, 2, 0.5]
        case 1965..<1985: weights = [3, 15, 17, 10, 20, 28, 6, 1]
        case 1950..<1965: weights = [1, 6, 8, 8, 22, 35, 17, 3]
        default: weights = [0.5, 3, 4, 4, 12, 26, 38, 12]
        }
        return codes[rng.weighted(weights)]
    }

    static func mobile(_ rng: inout DistrictRandom) -> String {
        var text = "1" + ["3", "5", "7", "8", "9"][rng.below(5)]
        for _ in 0..<9 { text += String(rng.below(10)) }
        return text
    }

    static func address(street: Int, collective: Bool, rng: inout DistrictRandom) -> String {
        var text = "四川省成都市成华区" + DistrictGeography.streetNames[street]
        text += rng.pick(DistrictGeography.roadStems) + rng.pick(DistrictGeography.roadKinds)
        text += "\(rng.within(1...399))号"
        if collective { return text + (rng.chance(0.5) ? "集体宿舍" : "养老院") }
        if rng.chance(0.85) { text += "\(rng.within(1...12))栋\(rng.within(1...4))单元\(rng.within(1...32))0\(rng.within(1...6))" }
        return text
    }
}

func sixDigits(_ n: Int) -> String {
    let s = String(n)
    return s.count >= 6 ? s : String(repeating: "0", count: 6 - s.count) + s
}
