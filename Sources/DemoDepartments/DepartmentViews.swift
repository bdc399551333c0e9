/// Each department's view of the district: the records its system holds for one household, in
/// its own field names, codes and formats, with `messiness` applied. Every function depends only
/// on the household index (and the seed), so demo servers can page through households in any order.
public struct DepartmentViews: Sendable {
    public let district: SyntheticDistrict
    public let messiness: Messiness

    /// Share of households on the subsistence allowance roster (低保), about 2%.
    public static let dibaoShare = 0.02

    public init(district: SyntheticDistrict, messiness: Messiness = .realistic) {
        self.district = district
        self.messiness = messiness
    }

    /// The records `department` holds for household `index`, in the order its file lists them.
    public func records(_ department: DepartmentSystem, household index: Int) -> [DepartmentRecord] {
        records(department, household: district.household(index))
    }

    /// The records `department` holds about person `index` (several for social security, one per
    /// insurance type; a dibao row is about the household head).
    public func records(_ department: DepartmentSystem, person index: Int) -> [DepartmentRecord] {
        records(department, household: district.householdIndex(ofPerson: index)).filter { $0.personIndex == index }
    }

    /// The records `department` holds for an already built household.
    public func records(_ department: DepartmentSystem, household: SyntheticHousehold) -> [DepartmentRecord] {
        switch department {
        case .policeHukou: return police(household)
        case .socialSecurity: return socialSecurity(household)
        case .healthRecords: return health(household)
        case .civilDibao: return dibao(household).map { [$0] } ?? []
        case .civilMarriage: return marriage(household).map { [$0] } ?? []
        case .civilDeath: return deaths(household)
        }
    }

    private func rng(_ stream: RandomStream, _ index: Int) -> DistrictRandom {
        DistrictRandom(seed: district.seed, stream: stream.rawValue, index: index)
    }

    // MARK: Police household register (公安户籍): everyone, one row per person.

    /// Share of the year's dead whose register row is already deregistered (ZXBS = 1).
    static let deregisteredShare = 0.3

    func police(_ household: SyntheticHousehold) -> [DepartmentRecord] {
        var out: [DepartmentRecord] = []
        out.reserveCapacity(household.members.count)
        let m = messiness
        for (k, person) in household.members.enumerated() {
            var r = rng(.police, person.index)
            let isHead = k == 0
            let householdType = isHead ? (r.chance(m.labelInsteadOfCode) ? (household.isCollective ? "2" : "1") : (household.isCollective ? "集体户" : "家庭户")) : ""
            let bornBefore1966 = person.birthDate.year < 1966
            let idText = MessyText.citizenID(person.citizenID, rng: &r, m, legacyAllowed: bornBefore1966)
            var birth = MessyText.date(person.birthDate, usual: .compact, rng: &r, m)
            if idText.count == 15, r.chance(0.5) { birth = MessyText.date(person.birthDate, .yymmdd) }
            var ethnic = person.ethnicGroup
            if ethnic.hasPrefix("0"), r.chance(m.strippedLeadingZero) { ethnic = String(ethnic.dropFirst()) }
            let employer = person.employer.map { district.employers.employers[$0].name } ?? ""
            let deregistered = person.dateOfDeath != nil && r.chance(Self.deregisteredShare)
            let fields: [SourceField] = [
                SourceField("HH", r.chance(m.fullWidthID) ? MessyText.fullWidth(household.number) : household.number),
                SourceField("HB", householdType),
                SourceField("DJJG", household.registeringOffice),
                SourceField("ZZ", isHead || r.chance(0.7) ? household.address : ""),
                SourceField("SQ", household.communityCode),
                SourceField("XM", MessyText.name(person.name, rng: &r, m)),
                SourceField("CYM", person.formerName),
                SourceField("XB", MessyText.sex(person.sex, rng: &r, m)),
                SourceField("MZ", ethnic),
                SourceField("CSRQ", birth),
                SourceField("GMSFHM", idText),
                SourceField("YHZGX", person.relationship),
                SourceField("WHCD", person.education),
                SourceField("ZY", person.occupation),
                SourceField("FWCS", employer),
                SourceField("LXDH", MessyText.mobile(person.mobile, rng: &r)),
                SourceField("QRRQ", person.movedIn.map { MessyText.date($0, usual: .dashed, rng: &r, m) } ?? ""),
                SourceField("HYZK", person.maritalStatus),
                SourceField("ZXBS", deregistered ? "1" : "0"),
            ]
            out.append(DepartmentRecord(department: .policeHukou, fields: fields, personIndex: person.index))
        }
        return out
    }

    // MARK: Social security (人社): working-age and retired persons, one <AC01> per insurance type.

    func socialSecurity(_ household: SyntheticHousehold) -> [DepartmentRecord] {
        var out: [DepartmentRecord] = []
        let reference = SyntheticDistrict.referenceDay
        let m = messiness
        for person in household.members {
            var r = rng(.socialSecurity, person.index)
            let age = person.age(on: reference)
            guard age >= 16 else { continue }
            let retirementAge = person.isMale ? 60 : 55
            var types: [String]
            var employer: EmployerPool.Employer?
            if let e = person.employer, r.chance(0.86) {
                employer = district.employers.employers[e]
                types = ["110", "310"]
                if r.chance(0.5) { types.append("210") }
            } else if age >= retirementAge {
                guard r.chance(0.85) else { continue }
                types = [r.chance(0.6) ? "110" : "170", r.chance(0.6) ? "310" : "390"]
            } else {
                guard r.chance(0.45) else { continue }
                types = r.chance(0.6) ? ["170", "390"] : ["390"]
            }
            let firstWork = max(person.birthDate.year + r.within(18...24), 1992)
            let enrolled = CalendarDay(year: min(firstWork, reference.year), month: r.within(1...12), day: 1)
            let idText = MessyText.citizenID(person.citizenID, rng: &r, m)
            let name = MessyText.name(person.name, rng: &r, m)
            let birth = MessyText.date(person.birthDate, .compact)
            let personNumber = DistrictGeography.districtCode + "0" + sixDigits(person.index + 1)
            for type in types {
                var status = "1"
                if age >= retirementAge, type == "110" || type == "210" { status = "3" } else if r.chance(0.05) { status = "2" }
                if r.chance(m.labelInsteadOfCode) { status = ["1": "正常缴费", "2": "暂停缴费", "3": "终止参保"][status]! }
                var fields: [SourceField] = [
                    SourceField("AAC001", personNumber),
                    SourceField("AAC002", idText),
                    SourceField("AAC003", name),
                    SourceField("AAC004", person.sex),
                    SourceField("AAC006", r.chance(0.3) ? MessyText.date(person.birthDate, .dashed) : birth),
                ]
                if let employer {
                    fields.append(SourceField("AAB001", employer.number))
                    fields.append(SourceField("AAB004", employer.name))
                    fields.append(SourceField("AAB998", employer.uscc.map { .text($0) } ?? .null))
                }
                fields.append(SourceField("AAE140", type))
                fields.append(SourceField("AAC031", status))
                fields.append(SourceField("AAE030", MessyText.date(enrolled, .dashed)))
                out.append(DepartmentRecord(department: .socialSecurity, fields: fields, personIndex: person.index))
            }
        }
        return out
    }

    // MARK: Health records (卫健): about 85% of residents.

    /// This source's ABO codes: 1 A, 2 B, 3 AB, 4 O (the hospital variant the mapping crosswalks).
    static let bloodCodes = ["1", "2", "4", "3"]   // A, B, O, AB in WS/T order of weights below
    static let bloodWeights = [0.30, 0.28, 0.33, 0.09]
    static let bloodLetters = ["A", "B", "O", "AB"]

    func health(_ household: SyntheticHousehold) -> [DepartmentRecord] {
        var out: [DepartmentRecord] = []
        let reference = SyntheticDistrict.referenceDay
        let m = messiness
        let centre = DistrictGeography.healthCentre(household.street)
        let streetCode = DistrictGeography.streetCode(household.street)
        for person in household.members {
            var r = rng(.health, person.index)
            let age = person.age(on: reference)
            guard r.chance(age < 7 || age >= 60 ? 0.93 : 0.82) else { continue }
            var name = person.name
            if r.chance(m.healthNameVariant) { name = NamePools.variant(of: name, rng: &r) }
            let blood = r.weighted(Self.bloodWeights)
            var bloodText = Self.bloodCodes[blood]
            if r.chance(0.05) { bloodText = "5" } else if r.chance(m.labelInsteadOfCode) { bloodText = Self.bloodLetters[blood] }
            let rh = r.chance(0.1) ? "不详" : (r.chance(0.004) ? "阴性" : "阳性")
            let old = age >= 60, middle = age >= 40
            let flags: [(String, Bool)] = [
                ("gxy", r.chance(old ? 0.35 : middle ? 0.12 : 0.01)),
                ("tnb", r.chance(old ? 0.15 : middle ? 0.06 : 0.005)),
                ("gxb", r.chance(old ? 0.06 : middle ? 0.01 : 0)),
                ("nzz", r.chance(old ? 0.03 : middle ? 0.005 : 0)),
                ("mzf", r.chance(old ? 0.04 : middle ? 0.005 : 0)),
                ("yzjsza", age >= 15 && r.chance(0.005)),
            ]
            let asStrings = r.chance(0.2)
            let chronic: [SourceField] = flags.map { SourceField($0.0, asStrings ? .text($0.1 ? "1" : "0") : .bool($0.1)) }
            var fields: [SourceField] = [
                SourceField("jkdabh", String(streetCode.prefix(9)) + eightDigits(person.index + 1)),
                SourceField("sfzh", MessyText.citizenID(person.citizenID, rng: &r, m)),
                SourceField("xm", MessyText.name(name, rng: &r, m)),
                SourceField("xb", MessyText.sex(person.sex, rng: &r, m)),
                SourceField("csrq", MessyText.date(person.birthDate, usual: r.chance(0.6) ? .dashed : .compact, rng: &r, m)),
                SourceField("xx", bloodText),
                SourceField("rh", rh),
                SourceField("mxb", .object(chronic)),
            ]
            if r.chance(old ? 0.7 : 0.35) {
                let doctor = NamePools.surnames[r.below(40)] + "医生"
                let signed = CalendarDay(year: r.within(2019...2025), month: r.within(1...12), day: r.within(1...28))
                fields.append(SourceField("jtys", .object([
                    SourceField("xm", doctor),
                    SourceField("td", DistrictGeography.shortName(household.street) + ["一队", "二队", "三队", "四队"][r.below(4)]),
                    SourceField("qyrq", MessyText.date(signed, r.chance(0.5) ? .compact : .dashed)),
                ])))
            }
            fields.append(SourceField("gljg", centre))
            let updated = CalendarDay(year: 2025, month: r.within(1...12), day: r.within(1...28))
            fields.append(SourceField("gxsj", MessyText.date(updated, .dashed) + "T\(r.within(10...17)):00:00+08:00"))
            out.append(DepartmentRecord(department: .healthRecords, fields: fields, personIndex: person.index))
        }
        return out
    }

    // MARK: Civil affairs (民政): dibao roster, marriage and death registrations.

    static let dibaoReasons = ["因病", "因残", "年老体弱", "失业", "因灾", "单亲家庭"]

    func dibao(_ household: SyntheticHousehold) -> DepartmentRecord? {
        var r = rng(.dibao, household.index)
        let head = household.head
        let headAge = head.age(on: SyntheticDistrict.referenceDay)
        guard !household.isCollective, r.chance(headAge >= 65 ? Self.dibaoShare * 1.6 : Self.dibaoShare * 0.8) else { return nil }
        let m = messiness
        let size = household.members.count
        let cents = (size * r.within(280...760) * 100) + [0, 50][r.below(2)]
        let amount = "\(cents / 100)" + (cents % 100 == 0 ? "" : ".50")
        var amountText = amount
        var sizeText = String(size)
        if r.chance(m.decoratedNumber) { amountText = amount + "元" } else if r.chance(m.decoratedNumber / 2), cents >= 100_000 {
            let yuan = cents / 100
            amountText = "\(yuan / 1000),\(DistrictGeography.threeDigits(yuan % 1000)).\(cents % 100 == 0 ? "00" : "50")"
        }
        if r.chance(m.decoratedNumber) { sizeText = r.chance(0.5) ? "\(size)人" : MessyText.fullWidth("\(size)") + "人" }
        let stopped = r.chance(0.08)
        let start = CalendarDay(year: r.within(2015...2025), month: r.within(1...12), day: 1)
        let end = stopped ? start + r.within(60...900) : nil
        let statusCode = stopped ? "3" : (r.chance(0.03) ? "2" : "1")
        let status = r.chance(m.labelInsteadOfCode) ? statusCode : ["1": (r.chance(0.8) ? "在保" : ""), "2": "暂停", "3": "停保"][statusCode]!
        let fields: [SourceField] = [
            SourceField("户主身份证号", MessyText.citizenID(head.citizenID, rng: &r, m)),
            SourceField("户主姓名", MessyText.name(head.name, rng: &r, m)),
            SourceField("家庭人口", sizeText),
            SourceField("月保障金额", amountText),
            SourceField("救助原因", headAge >= 65 ? (r.chance(0.6) ? "年老体弱" : "因病") : r.pick(Self.dibaoReasons)),
            SourceField("保障状态", status),
            SourceField("开始日期", MessyText.date(start, usual: .dashed, rng: &r, m)),
            SourceField("终止日期", end.map { MessyText.date(min($0, SyntheticDistrict.referenceDay), usual: .dashed, rng: &r, m) } ?? ""),
            SourceField("社区代码", r.chance(m.fullWidthID * 5) ? MessyText.fullWidth(household.communityCode) : household.communityCode),
        ]
        return DepartmentRecord(department: .civilDibao, fields: fields, personIndex: head.index)
    }

    /// Probability that a young couple registered their marriage during the reference year, and
    /// that any couple divorced (about 0.5% of residents appear in a registration row's pair).
    static let newlywedShare = 0.055
    static let divorceShare = 0.008

    func marriage(_ household: SyntheticHousehold) -> DepartmentRecord? {
        guard household.members.count >= 2, ["妻", "夫", "配偶"].contains(household.members[1].relationship) else { return nil }
        var r = rng(.marriage, household.index)
        let head = household.head, spouse = household.members[1]
        let age = head.age(on: SyntheticDistrict.referenceDay)
        let kind: String
        if age >= 22, age <= 40, r.chance(Self.newlywedShare) {
            kind = r.chance(0.97) ? (r.chance(0.9) ? "结婚" : "结婚登记") : "补发结婚证"
        } else if age >= 25, age <= 65, r.chance(Self.divorceShare) {
            kind = r.chance(0.85) ? "离婚" : "复婚"
        } else {
            return nil
        }
        let (man, woman) = head.isMale ? (head, spouse) : (spouse, head)
        let yearStart = CalendarDay(year: SyntheticDistrict.referenceDay.year, month: 1, day: 1)
        let date = yearStart + r.below(365)
        let prefix = kind == "补发结婚证" ? "BJ" : (kind == "离婚" ? "L" : "J")
        let m = messiness
        let fields: [SourceField] = [
            SourceField("登记证号", "\(prefix)510108-\(yearStart.year)-\(sixDigits(household.index + 1))"),
            SourceField("业务类型", kind),
            SourceField("男方身份证号", MessyText.citizenID(man.citizenID, rng: &r, m)),
            SourceField("男方姓名", MessyText.name(man.name, rng: &r, m)),
            SourceField("女方身份证号", MessyText.citizenID(woman.citizenID, rng: &r, m)),
            SourceField("女方姓名", MessyText.name(woman.name, rng: &r, m)),
            SourceField("登记日期", MessyText.date(date, usual: .dashed, rng: &r, m)),
            SourceField("登记机关", "成都市成华区民政局"),
        ]
        return DepartmentRecord(department: .civilMarriage, fields: fields, personIndex: head.index)
    }

    /// The death certificate's own marital codes (1 unmarried, 2 married, 3 widowed, 4 divorced, 9 unstated).
    static func certificateMarital(_ code: String) -> String {
        switch code {
        case "20", "21", "22", "23": "2"
        case "30": "3"
        case "40": "4"
        case "90": "9"
        default: "1"
        }
    }

    func deaths(_ household: SyntheticHousehold) -> [DepartmentRecord] {
        var out: [DepartmentRecord] = []
        let m = messiness
        for person in household.members {
            guard let died = person.dateOfDeath else { continue }
            var r = rng(.death, person.index)
            _ = r.next()
            let fields: [SourceField] = [
                SourceField("死亡证明编号", "S510108\(died.year)\(sevenDigits(person.index + 1))"),
                SourceField("身份证号", MessyText.citizenID(person.citizenID, rng: &r, m)),
                SourceField("姓名", MessyText.name(person.name, rng: &r, m)),
                SourceField("性别", person.isMale ? "男" : "女"),
                SourceField("死亡日期", MessyText.date(died, usual: .compact, rng: &r, m)),
                SourceField("婚姻状况", r.chance(0.02) ? "9" : Self.certificateMarital(person.maritalStatus)),
                SourceField("死亡地点", ["医院", "家中", "养老机构", "其他"][r.weighted([0.6, 0.3, 0.08, 0.02])]),
            ]
            out.append(DepartmentRecord(department: .civilDeath, fields: fields, personIndex: person.index))
        }
        return out
    }
}

func eightDigits(_ n: Int) -> String {
    let s = String(n)
    return s.count >= 8 ? s : String(repeating: "0", count: 8 - s.count) + s
}

func sevenDigits(_ n: Int) -> String {
    let s = String(n)
    return s.count >= 7 ? s : String(repeating: "0", count: 7 - s.count) + s
}
