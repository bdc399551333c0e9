/// Builds the skeleton of a household (who lives in it, their sex, birth date, origin and marital
/// status) from the household's own random stream, so that any household can be rebuilt alone.
struct HouseholdComposer {
    /// What the generator decides about a member before names and department details.
    struct Member {
        var relationship: String
        var male: Bool
        var birth: CalendarDay
        /// Index into `DistrictGeography.originCodes`.
        var origin: Int
        var maritalStatus: String
        var role: Role
    }

    enum Role { case head, spouse, child, grandchild, parent, childInLaw, sibling, nonRelative }

    /// The day the population is observed (ages, events of the year before it).
    static let referenceDay = CalendarDay(year: 2025, month: 12, day: 31)
    static let firstBirth = CalendarDay(year: 1930, month: 1, day: 1)

    /// Household size 1...6 (census-like shares; mean about 2.6).
    static let sizeWeights: [Double] = [0.25, 0.30, 0.21, 0.13, 0.07, 0.04]
    /// Share of collective households (集体户: dormitories, care homes).
    static let collectiveShare = 0.03

    /// Head age bands (5 years from 20) and their weights.
    static let headAgeWeights: [Double] = [3, 7, 10, 10, 9, 10, 11, 10, 9, 8, 6, 4, 2.5, 1.2, 0.3]

    let seed: UInt64

    static func size(seed: UInt64, household: Int) -> Int {
        var rng = DistrictRandom(seed: seed, stream: RandomStream.householdSize.rawValue, index: household)
        return 1 + rng.weighted(sizeWeights)
    }

    static func isCollective(seed: UInt64, household: Int) -> Bool {
        var rng = DistrictRandom(seed: seed, stream: RandomStream.householdSize.rawValue, index: household)
        _ = rng.next()
        return rng.chance(collectiveShare)
    }

    /// The members of household `index` (head first); exactly `size` of them.
    func members(household index: Int, size: Int, collective: Bool) -> [Member] {
        var rng = DistrictRandom(seed: seed, stream: RandomStream.composition.rawValue, index: index)
        var out: [Member] = []
        out.reserveCapacity(size)
        let headOrigin = rng.weighted(DistrictGeography.originWeights)
        if collective {
            for k in 0..<size {
                let age = rng.within(18...62)
                let origin = rng.chance(0.5) ? headOrigin : rng.weighted(DistrictGeography.originWeights)
                out.append(Member(relationship: k == 0 ? "户主" : "非亲属", male: rng.chance(0.55), birth: birthDay(age: age, rng: &rng),
                                  origin: origin, maritalStatus: Self.singleMarital(age: age, rng: &rng), role: k == 0 ? .head : .nonRelative))
            }
            return out
        }
        var headAge = 20 + 5 * rng.weighted(Self.headAgeWeights) + rng.below(5)
        if size >= 3 { headAge = max(headAge, 26) }
        headAge = min(headAge, 95)
        let headMale = rng.chance(size == 1 ? 0.45 : 0.68)
        let hasSpouse = size >= 2 && rng.chance(size == 2 ? 0.72 : 0.88)
        var head = Member(relationship: "户主", male: headMale, birth: birthDay(age: headAge, rng: &rng), origin: headOrigin,
                          maritalStatus: hasSpouse ? (rng.chance(0.04) ? "22" : "20") : Self.singleMarital(age: headAge, rng: &rng), role: .head)
        if !hasSpouse, head.maritalStatus == "20" { head.maritalStatus = "30" }
        out.append(head)
        var spouseAge = headAge
        if hasSpouse {
            spouseAge = min(95, max(20, headAge + (headMale ? -rng.within(0...5) : rng.within(0...5))))
            let origin = rng.chance(0.6) ? headOrigin : rng.weighted(DistrictGeography.originWeights)
            out.append(Member(relationship: headMale ? (rng.chance(0.9) ? "妻" : "配偶") : (rng.chance(0.9) ? "夫" : "配偶"),
                              male: !headMale, birth: birthDay(age: spouseAge, rng: &rng), origin: origin, maritalStatus: head.maritalStatus, role: .spouse))
        }
        var remaining = size - out.count
        // Parents of the head live with the family in some larger households.
        var parents = 0
        if remaining >= 3 { parents = rng.weighted([0.4, 0.35, 0.25]) } else if remaining == 2 { parents = rng.weighted([0.75, 0.25]) } else if remaining == 1, !hasSpouse { parents = rng.chance(0.15) ? 1 : 0 }
        if headAge + 22 > 95 { parents = 0 }
        // A young head lives with parents (and brothers and sisters) rather than children.
        let youngHead = headAge < 24
        if youngHead { parents = min(remaining, 2) }
        var parentAges: [Int] = []
        for p in 0..<parents {
            let age = min(95, headAge + rng.within(22...32))
            let father = parents == 2 ? p == 0 : rng.chance(0.35)
            let inLaw = !headMale && hasSpouse && rng.chance(0.3)
            let label = father ? (inLaw ? "公公" : "父亲") : (inLaw ? "婆婆" : "母亲")
            let married = parents == 2
            out.append(Member(relationship: label, male: father, birth: birthDay(age: age, rng: &rng), origin: headOrigin,
                              maritalStatus: married ? "20" : (rng.chance(0.85) ? "30" : "40"), role: .parent))
            parentAges.append(age)
        }
        remaining -= parents
        if youngHead {
            for _ in 0..<remaining {
                let male = rng.chance(0.5)
                let age = max(0, headAge - rng.within(1...8))
                out.append(Member(relationship: male ? "弟" : "妹妹", male: male, birth: birthDay(age: age, rng: &rng), origin: headOrigin,
                                  maritalStatus: Self.singleMarital(age: age, rng: &rng), role: .sibling))
            }
            return out
        }
        // Children (and, for older heads, a child-in-law and grandchildren).
        var childAges: [Int] = []
        var grandchildren = 0, childInLaw = 0
        if remaining >= 3, headAge >= 55, rng.chance(0.5) { childInLaw = 1; grandchildren = remaining - 2 }
        let children = remaining - grandchildren - childInLaw
        let youngestParentAge = min(headAge, spouseAge)
        for _ in 0..<children {
            let gap = rng.within(22...36)
            childAges.append(max(0, min(youngestParentAge - gap, 60)))
        }
        childAges.sort(by: >)
        var sons = 0, daughters = 0
        let childSexes = childAges.map { _ in rng.chance(0.515) }
        let totalSons = childSexes.filter { $0 }.count, totalDaughters = childSexes.count - totalSons
        for (k, age) in childAges.enumerated() {
            let male = childSexes[k]
            let label: String
            if male {
                sons += 1
                label = totalSons == 1 ? (rng.chance(0.5) ? "独生子" : "长子") : (["长子", "次子", "三子"].count >= sons ? ["长子", "次子", "三子"][sons - 1] : "子")
            } else {
                daughters += 1
                label = totalDaughters == 1 ? (rng.chance(0.5) ? "独生女" : "长女") : (["长女", "次女", "三女"].count >= daughters ? ["长女", "次女", "三女"][daughters - 1] : "女")
            }
            let origin = rng.chance(0.85) ? 0 : headOrigin
            out.append(Member(relationship: label, male: male, birth: birthDay(age: age, rng: &rng), origin: origin,
                              maritalStatus: childInLaw == 1 && k == 0 ? "20" : Self.singleMarital(age: age, rng: &rng), role: .child))
        }
        if childInLaw == 1 {
            let firstChildMale = childSexes.first ?? true
            let age = max(20, (childAges.first ?? 30) + rng.within(-3...3))
            out.append(Member(relationship: firstChildMale ? "儿媳" : "女婿", male: !firstChildMale, birth: birthDay(age: age, rng: &rng),
                              origin: rng.weighted(DistrictGeography.originWeights), maritalStatus: "20", role: .childInLaw))
        }
        for _ in 0..<grandchildren {
            let age = max(0, min((childAges.first ?? 30) - rng.within(22...32), 17))
            let male = rng.chance(0.515)
            out.append(Member(relationship: male ? "孙子" : "孙女", male: male, birth: birthDay(age: age, rng: &rng), origin: 0,
                              maritalStatus: "", role: .grandchild))
        }
        return out
    }

    /// Marital status of a person who does not live with a spouse.
    static func singleMarital(age: Int, rng: inout DistrictRandom) -> String {
        switch age {
        case ..<18: return ""
        case ..<28: return rng.chance(0.92) ? "10" : "20"
        case ..<40: return ["10", "40", "20"][rng.weighted([0.5, 0.3, 0.2])]
        case ..<65: return ["10", "40", "30", "20"][rng.weighted([0.15, 0.4, 0.25, 0.2])]
        default: return ["30", "40", "10", "20"][rng.weighted([0.65, 0.15, 0.05, 0.15])]
        }
    }

    /// A birth day giving `age` on the reference day (never after it, never before 1930).
    func birthDay(age: Int, rng: inout DistrictRandom) -> CalendarDay {
        let year = Self.referenceDay.year - age
        let start = CalendarDay(year: year, month: 1, day: 1)
        let day = start + rng.below(365)
        return max(Self.firstBirth, min(day, Self.referenceDay))
    }
}
