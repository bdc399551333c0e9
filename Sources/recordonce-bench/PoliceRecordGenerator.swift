import Foundation

/// Generates realistic police household register items (valid citizen IDs, households of 1-5
/// members, the messiness the mapping has to handle) as one JSON answer of the register API.
struct PoliceRecordGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    private mutating func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 33
    }

    private mutating func int(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    private mutating func chance(_ percent: Int) -> Bool { int(100) < percent }

    static let surnames = Array("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
    static let given = Array("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉兰萍建国建华志强海燕红梅")
    static let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    static let checks = Array("10X98765432")
    static let fullWidth: [Character: Character] = ["0": "０", "1": "１", "2": "２", "3": "３", "4": "４", "5": "５", "6": "６", "7": "７", "8": "８", "9": "９", "X": "Ｘ"]

    mutating func name() -> String {
        var s = String(Self.surnames[int(Self.surnames.count)])
        for _ in 0..<(1 + int(2)) { s.append(Self.given[int(Self.given.count)]) }
        return s
    }

    mutating func citizenID(year: Int, month: Int, day: Int, male: Bool) -> String {
        var seq = 1 + int(498) * 2
        if male { seq += 1 } // odd = male
        let body = "510108" + String(format: "%04d%02d%02d%03d", year, month, day, seq % 1000)
        var sum = 0
        for (i, c) in body.enumerated() { sum += c.wholeNumberValue! * Self.weights[i] }
        return body + String(Self.checks[sum % 11])
    }

    /// The register API's answer with `count` person items.
    mutating func answer(count: Int) -> [UInt8] {
        var items: [String] = []
        items.reserveCapacity(count)
        var household = 0
        while items.count < count {
            household += 1
            let hh = String(format: "5101080%05d", household)
            let community = String(format: "5101080010%02d", 1 + int(8))
            let address = "四川省成都市成华区猛追湾街道示例路\(1 + int(300))号\(1 + int(6))单元\(101 + int(20))"
            let size = 1 + int(5)
            let relations = ["户主", "妻", "长子", "长女", "次子", "母亲", "孙子"]
            for member in 0..<size where items.count < count {
                let male = member == 0 ? chance(70) : chance(50)
                let year = member == 0 ? 1945 + int(45) : 1950 + int(70)
                let month = 1 + int(12), day = 1 + int(28)
                var id = citizenID(year: year, month: month, day: day, male: male)
                var birth = String(format: "%04d%02d%02d", year, month, day)
                var sex = male ? "1" : "2"
                let roll = int(100)
                if roll < 4 { id = String(id.map { Self.fullWidth[$0] ?? $0 }) }                        // full-width digits
                else if roll < 6 && year < 2000 { id = String(id.prefix(6)) + String(id.dropFirst(8).prefix(9)) } // legacy 15 digits
                else if roll < 7 { id = String(id.prefix(15)) + "000" }                                  // Excel-damaged
                if chance(10) { sex = male ? "男" : "女" }
                if chance(5) {
                    // Excel serial (1900 date system).
                    let days = Int((DateComponents(calendar: Calendar(identifier: .gregorian), year: year, month: month, day: day).date!
                        .timeIntervalSince(DateComponents(calendar: Calendar(identifier: .gregorian), year: 1899, month: 12, day: 30).date!) / 86400).rounded())
                    birth = String(days)
                } else if chance(10) {
                    birth = "\(year)-\(String(format: "%02d", month))-\(String(format: "%02d", day))"
                }
                let relation = member == 0 ? "户主" : relations[1 + int(relations.count - 1)]
                let phone = chance(40) ? "1\(3 + int(7))\(String(format: "%09d", int(1_000_000_000)))" : ""
                items.append("""
                {"HH":"\(hh)","HB":"家庭户","DJJG":"成都市公安局成华区分局猛追湾派出所","ZZ":"\(address)","SQ":"\(community)",\
                "XM":"\(name())","CYM":"","XB":"\(sex)","MZ":"\(chance(95) ? "01" : "1")","CSRQ":"\(birth)","GMSFHM":"\(id)",\
                "YHZGX":"\(relation)","WHCD":"\(["20", "30", "60", "70", ""][int(5)])","ZY":"","FWCS":"","LXDH":"\(phone)",\
                "QRRQ":"\(chance(50) ? "2005-06-01" : "")","HYZK":"\(["10", "20", "20", "30", "40"][int(5)])","ZXBS":"\(chance(2) ? "1" : "0")"}
                """)
            }
        }
        let body = "{\"code\":0,\"message\":\"ok\",\"data\":{\"page\":1,\"pageSize\":\(count),\"total\":\(count),\"items\":[\n" + items.joined(separator: ",\n") + "\n]}}"
        return Array(body.utf8)
    }
}
