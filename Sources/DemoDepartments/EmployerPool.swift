import Catalog

/// The district's employers: deterministic names and valid unified social credit codes (the
/// check character from the Catalog's rule), shared by the police register (服务处所) and
/// social security (AAB001/AAB004/AAB998).
public struct EmployerPool: Sendable {
    public struct Employer: Sendable, Equatable {
        /// Social insurance employer number (AAB001).
        public var number: String
        public var name: String
        /// Unified social credit code; nil for the few employers registered without one.
        public var uscc: String?
    }

    public let employers: [Employer]

    static let words = ["锦城", "天府", "蓉欣", "东郊", "华川", "宏达", "新鸿", "川信", "博雅", "成华", "万和", "瑞丰",
                        "长虹", "金牛", "蜀汉", "青龙", "银杏", "芙蓉", "熊猫", "龙潭", "驷马", "二仙", "凯德", "星辰"]
    static let trades = ["机械", "电子", "科技", "物流", "餐饮", "建筑工程", "医药", "商贸", "软件", "物业管理",
                         "文化传媒", "汽车服务", "环保", "食品", "教育咨询", "印务"]
    static let forms = ["有限公司", "有限责任公司", "股份有限公司"]
    static let usccAlphabet = Array("0123456789ABCDEFGHJKLMNPQRTUWXY")

    /// `count` employers for `seed`.
    public init(seed: UInt64, count: Int) {
        var list: [Employer] = []
        list.reserveCapacity(count)
        for i in 0..<count {
            var rng = DistrictRandom(seed: seed, stream: 99, index: i)
            let name = "成都" + rng.pick(Self.words) + rng.pick(Self.words) + rng.pick(Self.trades) + rng.pick(Self.forms)
            var uscc: String?
            if !rng.chance(0.03) {
                var body = "91" + DistrictGeography.districtCode
                for _ in 0..<9 { body.append(rng.pick(Self.usccAlphabet)) }
                if let check = SocialCreditCode.checkCharacter(for: body) { uscc = body + String(check) }
            }
            let number = DistrictGeography.districtCode + String(10_000 + i)
            list.append(Employer(number: number, name: name, uscc: uscc))
        }
        employers = list
    }
}
