import Catalog

/// A synthetic district: `residents` persons in households, deterministic from `seed`.
///
/// Construction lays out the households (sizes, offsets) and reserves every person's ID sequence
/// number so that IDs are unique; it holds about 6 bytes per resident. Everything else (names,
/// details, every department's view) is rebuilt on demand from the household's own random
/// streams: `household(_:)` is cheap and can be called in any order, from any thread.
public final class SyntheticDistrict: Sendable {
    public let seed: UInt64
    public let residents: Int
    /// The employers persons work for (shared by the police register and social security).
    public let employers: EmployerPool
    /// First person index of each household, plus `residents` at the end.
    private let householdStarts: [Int32]
    /// Per person: the ID sequence slot (0..<500; the sequence number is 2 * slot + sex parity).
    private let sequenceSlots: [UInt16]
    private let composer: HouseholdComposer

    /// The day the district is observed: ages are taken then, and the civil events (deaths,
    /// marriages) fall in the year that ends on it.
    public static var referenceDay: CalendarDay { HouseholdComposer.referenceDay }

    /// Builds the layout of a district of `residents` persons (1...9,999,999).
    public init(seed: UInt64, residents: Int = 1_540_000) {
        precondition(residents >= 1 && residents < 10_000_000, "residents must be between 1 and 9,999,999")
        self.seed = seed
        self.residents = residents
        composer = HouseholdComposer(seed: seed)
        employers = EmployerPool(seed: seed, count: max(50, residents / 150))
        var starts: [Int32] = []
        starts.reserveCapacity(residents / 2 + 2)
        var total = 0
        var h = 0
        while total < residents {
            starts.append(Int32(total))
            total += min(HouseholdComposer.size(seed: seed, household: h), residents - total)
            h += 1
        }
        starts.append(Int32(residents))
        householdStarts = starts
        sequenceSlots = Self.reserveSequenceSlots(seed: seed, starts: starts, composer: composer)
    }

    /// Number of households.
    public var householdCount: Int { householdStarts.count - 1 }

    /// The person indexes of a household.
    public func memberRange(ofHousehold index: Int) -> Range<Int> {
        Int(householdStarts[index])..<Int(householdStarts[index + 1])
    }

    /// The household a person belongs to.
    public func householdIndex(ofPerson person: Int) -> Int {
        var low = 0, high = householdCount - 1
        while low < high {
            let mid = (low + high + 1) / 2
            if Int(householdStarts[mid]) <= person { low = mid } else { high = mid - 1 }
        }
        return low
    }

    /// One person, by index.
    public func person(_ index: Int) -> SyntheticPerson {
        let h = householdIndex(ofPerson: index)
        return household(h).members[index - Int(householdStarts[h])]
    }

    /// One household with its members, rebuilt from the seed.
    public func household(_ index: Int) -> SyntheticHousehold {
        let range = memberRange(ofHousehold: index)
        let collective = HouseholdComposer.isCollective(seed: seed, household: index)
        let skeleton = composer.members(household: index, size: range.count, collective: collective)
        return HouseholdBuilder(district: self).build(index: index, firstPerson: range.lowerBound, collective: collective, skeleton: skeleton)
    }

    /// The citizen ID of a skeleton member whose sequence slot is known.
    func citizenID(origin: Int, birth: CalendarDay, male: Bool, person: Int) -> String {
        let (y, m, d) = birth.components
        let sequence = 2 * Int(sequenceSlots[person]) + (male ? 1 : 0)
        var first17 = DistrictGeography.originCodes[origin]
        first17 += String(y)
        first17 += m < 10 ? "0\(m)" : String(m)
        first17 += d < 10 ? "0\(d)" : String(d)
        first17 += DistrictGeography.threeDigits(sequence)
        return first17 + String(CitizenID.checkCharacter(for: first17)!)
    }

    /// Gives every person a sequence slot unique within (origin code, birth day, sex): a counter
    /// per bucket, started at a seeded offset and stepped by a number prime to 500.
    private static func reserveSequenceSlots(seed: UInt64, starts: [Int32], composer: HouseholdComposer) -> [UInt16] {
        let days = HouseholdComposer.referenceDay.dayNumber - HouseholdComposer.firstBirth.dayNumber + 1
        var counters = [UInt16](repeating: 0, count: DistrictGeography.originCodes.count * days * 2)
        let residents = Int(starts[starts.count - 1])
        var slots = [UInt16](repeating: 0, count: residents)
        for h in 0..<(starts.count - 1) {
            let first = Int(starts[h]), size = Int(starts[h + 1]) - first
            let members = composer.members(household: h, size: size, collective: HouseholdComposer.isCollective(seed: seed, household: h))
            for (k, member) in members.enumerated() {
                let bucket = (member.origin * days + (member.birth.dayNumber - HouseholdComposer.firstBirth.dayNumber)) * 2 + (member.male ? 1 : 0)
                let count = Int(counters[bucket])
                precondition(count < 500, "more than 500 persons share an ID prefix: the district is too large for its birth-date spread")
                counters[bucket] = UInt16(count + 1)
                let offset = Int(DistrictRandom.mix(seed ^ (UInt64(bucket) &* 0x2545_F491_4F6C_DD1D)) % 500)
                slots[first + k] = UInt16((offset + count * 211) % 500)
            }
        }
        return slots
    }
}
