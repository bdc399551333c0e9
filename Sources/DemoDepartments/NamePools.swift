/// Chinese personal names: common surnames (weighted roughly by frequency), given-name
/// characters by sex, a few rare characters that only GB18030 encodes (outside GBK), and
/// look-alike variants a second department may record for the same person.
enum NamePools {
    /// The most frequent surnames, most frequent first (weights fall off with rank).
    static let surnames: [String] = Array(
        "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
    ).map(String.init)
    static let surnameWeights: [Double] = (0..<surnames.count).map { 1.0 / (Double($0) + 4) }

    static let maleGiven: [String] = Array("伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林欣建国志文斌成东海峰亮兵晨阳博涵轩睿哲浩然子豪天佑").map(String.init)
    static let femaleGiven: [String] = Array("芳娜敏静丽艳娟霞燕玲桂英兰秀梅琳婷雪慧颖倩洁晶莉萍红琴蓉薇佳欣怡涵梓萱诗雨思彤一若可馨悦瑶").map(String.init)

    /// Characters outside GBK (CJK extension A and B) seen in real names: they need GB18030's
    /// four-byte sequences in the civil affairs CSV files.
    static let rareCharacters = ["䶮", "𪚥", "𫖯", "𬌗", "㛃", "䒟", "𠇔", "𬱟"]

    /// Look-alike or same-sound characters: a department that typed the name by hand may hold the variant.
    static let variants: [Character: Character] = [
        "伟": "玮", "明": "铭", "华": "桦", "军": "君", "英": "瑛", "丽": "莉", "芳": "方", "静": "婧", "涛": "滔",
        "杰": "洁", "斌": "彬", "峰": "锋", "玲": "琳", "燕": "艳", "红": "虹", "平": "萍", "刚": "钢", "波": "博",
        "宇": "雨", "欣": "昕", "琴": "芹", "强": "蔷", "辉": "晖", "龙": "隆", "亮": "良", "林": "琳", "梅": "媚",
    ]

    /// A name for a person with the given surname: one or two given characters; a rare character
    /// in place of one of them with probability `rareRate`.
    static func name(surname: String, male: Bool, rng: inout DistrictRandom, rareRate: Double) -> String {
        let pool = male ? maleGiven : femaleGiven
        var given = rng.pick(pool)
        if rng.chance(0.7) { given += rng.pick(pool) }
        if rng.chance(rareRate) {
            given = rng.pick(rareCharacters) + (given.count > 1 ? String(given.last!) : "")
        }
        return surname + given
    }

    /// The name as another clerk may have typed it: one given-name character replaced by its variant
    /// (or by another character when none of them has one).
    static func variant(of name: String, rng: inout DistrictRandom) -> String {
        var chars = Array(name)
        for k in stride(from: chars.count - 1, to: 0, by: -1) {
            if let v = variants[chars[k]] {
                chars[k] = v
                return String(chars)
            }
        }
        let replacement = Character(rng.pick(maleGiven))
        if chars.count > 1, chars[chars.count - 1] != replacement { chars[chars.count - 1] = replacement } else { chars.append("子") }
        return String(chars)
    }
}
