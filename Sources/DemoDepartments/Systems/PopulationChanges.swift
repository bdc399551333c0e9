import Foundation
import Telemetry

/// What happened to the district's residents during the demo.
public enum PopulationChangeKind: String, Sendable, CaseIterable {
    /// A resident moved to another address and community (police register).
    case move
    /// Two single residents married (civil affairs registration; police marital status).
    case marriage
    /// A resident died (civil affairs death registration; social insurance terminated).
    case death
    /// A department corrected a record (police cleans a messy row, health updates a record, or
    /// civil affairs stops a household's subsistence allowance).
    case correction
}

/// Keeps the district changing at a configurable rate so change events keep flowing through the
/// hub: moves, marriages, deaths and corrections, each applied to every department concerned.
public final class PopulationChanges: @unchecked Sendable {
    let population: DemoPopulation
    let civil: CivilAffairsDrop
    let health: HealthRecordsPusher
    let perMinute: Double
    let logger: Logger
    private let lock = NSLock()
    private let wake = NSCondition()
    private var random: DistrictRandom
    private var dead: Set<Int> = []
    private var counts: [PopulationChangeKind: Int] = [:]
    private var stopping = false
    private var registrations = 0

    init(population: DemoPopulation, civil: CivilAffairsDrop, health: HealthRecordsPusher, perMinute: Double, seed: UInt64, logger: Logger) {
        self.population = population
        self.civil = civil
        self.health = health
        self.perMinute = perMinute
        self.logger = logger
        random = DistrictRandom(seed: seed, stream: 0xDE30, index: 0)
    }

    /// Changes applied so far, by kind.
    public var applied: [PopulationChangeKind: Int] { lock.withLock { counts } }

    func start() {
        guard perMinute > 0 else { return }
        let thread = Thread { [self] in run() }
        thread.name = "demo-population-changes"
        thread.start()
    }

    func stop() {
        wake.lock()
        stopping = true
        wake.broadcast()
        wake.unlock()
    }

    private func run() {
        let pause = 60 / perMinute
        while true {
            wake.lock()
            if !stopping { _ = wake.wait(until: Date(timeIntervalSinceNow: pause)) }
            let done = stopping
            wake.unlock()
            if done { return }
            apply()
        }
    }

    /// Applies one change (of `kind`, or one drawn at random: 35% moves, 30% corrections, 15%
    /// marriages, 20% deaths). Returns the kind applied, nil when no resident fitted.
    @discardableResult
    public func apply(_ kind: PopulationChangeKind? = nil) -> PopulationChangeKind? {
        lock.lock()
        defer { lock.unlock() }
        let chosen = kind ?? [.move, .correction, .marriage, .death][random.weighted([0.35, 0.30, 0.15, 0.20])]
        let done: Bool
        switch chosen {
        case .move: done = move()
        case .marriage: done = marry()
        case .death: done = die()
        case .correction: done = correct()
        }
        guard done else { return nil }
        counts[chosen, default: 0] += 1
        return chosen
    }

    private var residents: Int { population.district.residents }

    /// A living resident (not dead in the district's year, nor during the demo), `fits` permitting.
    private func pickResident(_ fits: (SyntheticPerson) -> Bool = { _ in true }) -> SyntheticPerson? {
        for _ in 0..<200 {
            let index = random.below(residents)
            guard !dead.contains(index) else { continue }
            let person = population.district.person(index)
            if person.dateOfDeath == nil, fits(person) { return person }
        }
        return nil
    }

    private func move() -> Bool {
        guard let person = pickResident() else { return false }
        let destination = population.district.household(random.below(population.district.householdCount))
        population.police.update(String(person.index)) { record in
            record.set("ZZ", destination.address)
            record.set("SQ", destination.communityCode)
        }
        return true
    }

    private func marry() -> Bool {
        let today = ChangeClock.today()
        func single(_ male: Bool) -> SyntheticPerson? {
            pickResident { person in
                let age = person.age(on: today)
                return person.isMale == male && age >= 22 && age <= 45
                    && population.police.record(String(person.index))?["HYZK"] == "10"
            }
        }
        guard let man = single(true), let woman = single(false) else { return false }
        registrations += 1
        let year = today.year
        let record = DepartmentRecord(department: .civilMarriage, fields: [
            SourceField("登记证号", "J510108-\(year)-9\(String(format: "%05d", registrations))"),
            SourceField("业务类型", "结婚"),
            SourceField("男方身份证号", man.citizenID),
            SourceField("男方姓名", man.name),
            SourceField("女方身份证号", woman.citizenID),
            SourceField("女方姓名", woman.name),
            SourceField("登记日期", MessyText.date(today, .dashed)),
            SourceField("登记机关", "成都市成华区民政局"),
        ], personIndex: man.index)
        civil.queue(record)
        for person in [man, woman] {
            population.police.update(String(person.index)) { $0.set("HYZK", "20") }
        }
        return true
    }

    private func die() -> Bool {
        let today = ChangeClock.today()
        guard let person = pickResident({ $0.age(on: today) >= 50 }) ?? pickResident() else { return false }
        dead.insert(person.index)
        let marital = population.police.record(String(person.index))?["HYZK"] ?? person.maritalStatus
        let record = DepartmentRecord(department: .civilDeath, fields: [
            SourceField("死亡证明编号", "S510108\(today.year)\(sevenDigits(person.index + 1))"),
            SourceField("身份证号", person.citizenID),
            SourceField("姓名", person.name),
            SourceField("性别", person.isMale ? "男" : "女"),
            SourceField("死亡日期", MessyText.date(today, .compact)),
            SourceField("婚姻状况", DepartmentViews.certificateMarital(marital)),
            SourceField("死亡地点", "医院"),
        ], personIndex: person.index)
        civil.queue(record)
        for key in population.insuranceKeys[person.index] ?? [] {
            population.socialSecurity.update(key) { $0.set("AAC031", "3") }
        }
        return true
    }

    private func correct() -> Bool {
        guard let person = pickResident() else { return false }
        let key = String(person.index)
        if random.chance(0.15), let roster = population.civilExports[.civilDibao], !roster.isEmpty {
            // The subsistence allowance of a household on the roster stops this month.
            var row = roster[random.below(roster.count)]
            row.set("保障状态", "停保")
            row.set("终止日期", MessyText.date(ChangeClock.today(), .dashed))
            civil.queue(row)
            return true
        }
        if random.chance(0.5), population.health.record(key) != nil {
            let stamp = ChangeClock.iso(Int64(Date().timeIntervalSince1970 * 1000))
            population.health.update(key) { record in
                record.set("xx", ["1", "2", "3", "4"][self.random.below(4)])
                record.set("gxsj", String(stamp.prefix(19)) + "+08:00")
            }
            health.enqueue(key)
            return true
        }
        guard let clean = population.cleanViews.records(.policeHukou, person: person.index).first else { return false }
        population.police.update(key) { record in
            for name in ["XM", "GMSFHM", "CSRQ", "XB", "MZ"] {
                if let value = clean[name] { record.set(name, value) }
            }
        }
        return true
    }
}

extension DepartmentRecord {
    /// Sets a top-level field's text (appended when missing).
    mutating func set(_ name: String, _ text: String) {
        if let i = fields.firstIndex(where: { $0.name == name }) { fields[i].value = .text(text) } else { fields.append(SourceField(name, text)) }
    }
}
