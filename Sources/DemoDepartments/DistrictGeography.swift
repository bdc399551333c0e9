/// The demo district's geography: Chenghua (510108) with the catalog's 14 streets and 112
/// communities (mappings/catalog/codes/division.json5), their police stations, community health
/// centres and roads, plus the county codes migrants' ID numbers start with.
public enum DistrictGeography {
    /// The district's county code, the first six digits of natives' ID numbers.
    public static let districtCode = "510108"

    /// Street names in code order: street `s` (0-based) has code 510108 + (s+1, 3 digits) + 000.
    public static let streetNames = [
        "猛追湾街道", "双桥子街道", "府青路街道", "二仙桥街道", "跳蹬河街道", "建设路街道", "圣灯街道",
        "保和街道", "青龙街道", "龙潭街道", "白莲池街道", "万年场街道", "双水碾街道", "东郊记忆街道",
    ]

    /// Communities per street (codes 001-008 under each street).
    public static let communitiesPerStreet = 8

    /// The 12-digit statistical code of a street (0-based).
    public static func streetCode(_ street: Int) -> String { districtCode + threeDigits(street + 1) + "000" }

    /// The 12-digit statistical code of a community (street and community 0-based).
    public static func communityCode(street: Int, community: Int) -> String {
        districtCode + threeDigits(street + 1) + threeDigits(community + 1)
    }

    /// Every community code of the district, street by street (112 codes).
    public static var allCommunityCodes: [String] {
        (0..<streetNames.count).flatMap { s in (0..<communitiesPerStreet).map { communityCode(street: s, community: $0) } }
    }

    /// A street's name without the 街道 suffix (猛追湾).
    static func shortName(_ street: Int) -> String { String(streetNames[street].dropLast(2)) }

    /// The police station that keeps a street's household register (派出所 per street).
    static func policeStation(_ street: Int) -> String { "成都市公安局成华区分局" + shortName(street) + "派出所" }

    /// The community health centre that manages a street's residents' health records.
    static func healthCentre(_ street: Int) -> String { streetNames[street] + "社区卫生服务中心" }

    /// Roads of each street (synthetic names, a few per street).
    static let roadStems = ["建设", "府青", "双林", "一环", "二环", "东风", "猛追湾", "望平", "跳蹬河", "双桥",
                            "万年", "青龙", "龙潭", "保和", "圣灯", "白莲", "东郊", "杉板桥", "崔家店", "驷马桥",
                            "李家沱", "八里", "五桂", "槐树", "新鸿", "华林", "电子", "锦绣", "昭觉寺", "桃蹊"]
    static let roadKinds = ["路", "街", "巷", "北路", "南路", "中路", "东路"]

    static func threeDigits(_ n: Int) -> String {
        n < 10 ? "00\(n)" : (n < 100 ? "0\(n)" : "\(n)")
    }

    /// County codes for the address part of ID numbers, with weights. Index 0 is the district
    /// itself; then other Chengdu districts, other Sichuan counties and other provinces.
    static let originCodes: [String] = [
        "510108",
        "510104", "510105", "510106", "510107", "510112", "510113", "510114", "510115", "510116", "510121", "510181",
        "510302", "510411", "510502", "510603", "510703", "510802", "510903", "511002", "511102", "511302",
        "511402", "511502", "511602", "511702", "511802", "511902", "512002", "513401", "513201", "513301",
        "500101", "500103", "110105", "310115", "420106", "430102", "440106", "530102", "520102", "610113",
        "410105", "320102",
    ]
    /// Weight of each origin group: district 0.70, rest of Chengdu 0.12, rest of Sichuan 0.13, elsewhere 0.05.
    static let originWeights: [Double] = {
        var w = [0.70]
        w += Array(repeating: 0.12 / 11, count: 11)
        w += Array(repeating: 0.13 / 20, count: 20)
        w += Array(repeating: 0.05 / 12, count: 12)
        return w
    }()
}
