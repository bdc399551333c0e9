/// One resident of the synthetic district as the "truth" behind every department's view.
public struct SyntheticPerson: Sendable, Equatable {
    /// Position in the district (0..<residents), stable for a seed.
    public var index: Int
    /// The household this person is registered in.
    public var householdIndex: Int
    /// The canonical 18-character citizen ID (valid check character, unique in the district).
    public var citizenID: String
    public var name: String
    /// A former name (曾用名), usually empty.
    public var formerName: String
    /// GB/T 2261.1: "1" male, "2" female.
    public var sex: String
    public var birthDate: CalendarDay
    /// GB 3304 code ("01" Han).
    public var ethnicGroup: String
    /// Relationship to the head as the register writes it (户主, 妻, 长子...).
    public var relationship: String
    /// GB/T 4658 top-level code, empty for young children.
    public var education: String
    /// GB/T 2261.2 code, empty for minors.
    public var maritalStatus: String
    /// Occupation text (empty when none), employer index into `EmployerPool` when employed.
    public var occupation: String
    public var employer: Int?
    public var mobile: String
    /// When the person moved into the district (nil when born here).
    public var movedIn: CalendarDay?
    /// Died during the reference year (a death registration exists).
    public var dateOfDeath: CalendarDay?

    /// Age in whole years on `day`.
    public func age(on day: CalendarDay) -> Int {
        let b = birthDate.components, d = day.components
        return d.year - b.year - ((d.month, d.day) < (b.month, b.day) ? 1 : 0)
    }

    public var isMale: Bool { sex == "1" }
}

/// One registered household (户): its members, head first.
public struct SyntheticHousehold: Sendable, Equatable {
    public var index: Int
    /// 户号: 510108 followed by the household's serial.
    public var number: String
    /// 家庭户 or 集体户.
    public var isCollective: Bool
    /// 0-based street and community.
    public var street: Int
    public var community: Int
    /// The registered address (住址).
    public var address: String
    /// The 12-digit community code.
    public var communityCode: String { DistrictGeography.communityCode(street: street, community: community) }
    /// The registering police station (登记机关).
    public var registeringOffice: String { DistrictGeography.policeStation(street) }
    public var members: [SyntheticPerson]
    public var head: SyntheticPerson { members[0] }
}
