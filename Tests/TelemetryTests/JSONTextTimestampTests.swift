import Foundation
import Telemetry
import Testing

/// The byte-level JSON quoting and timestamp formatting on the feed's per-event path, checked
/// against straightforward reference implementations.
@Suite struct JSONTextTimestampTests {
    /// The scalar-by-scalar quoting the byte version replaced.
    static func referenceQuote(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    @Test(arguments: ["", "plain ascii", "居民12号", "四川省成都市成华区猛追湾街道望平街1号", "tab\there", "cr\rlf\n",
                      "quote\" and back\\slash", "\u{00}\u{1f}\u{7f}", "emoji 👩‍👩‍👧 e\u{301}", "\u{2028}"])
    func quoteMatchesTheReference(_ text: String) {
        let quoted = JSONText.quote(text)
        #expect(quoted == Self.referenceQuote(text))
        // And it is JSON that reads back as the same string.
        let back = try? JSONSerialization.jsonObject(with: Data(("[" + quoted + "]").utf8)) as? [String]
        #expect(back == [text])
    }

    @Test func timestampsMatchTheFormattedReference() {
        var generator = SystemRandomNumberGenerator()
        let fixed: [Double] = [0, 951_782_400.5, 1_700_000_000.999, 1_795_000_000.001, 253_402_300_799.25]
        for t in fixed + (0..<200).map({ _ in Double(Int.random(in: 0...4_000_000_000, using: &generator)) + Double.random(in: 0..<1) }) {
            let date = Date(timeIntervalSince1970: t)
            var secs = time_t(t.rounded(.down))
            var tm = tm()
            gmtime_r(&secs, &tm)
            let reference = String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1,
                                   Int(tm.tm_mday), Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), Int((t - t.rounded(.down)) * 1000))
            #expect(Timestamp.iso8601(date) == reference, "at \(t)")
        }
        #expect(Timestamp.iso8601(Date(timeIntervalSince1970: 951_782_400.5)) == "2000-02-29T00:00:00.500Z")
    }
}
