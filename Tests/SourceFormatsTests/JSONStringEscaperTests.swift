import JSON5
import Testing
@testable import SourceFormats

/// The byte escaper skips eight bytes at a time; it must write what the String escaper writes,
/// and what it writes must parse back to the same text, wherever the special bytes sit; so must
/// what JSON5's writer writes.
@Suite struct JSONStringEscaperTests {
    @Test func bytesAndStringEscapingAgreeAndParseBack() throws {
        let pieces = ["a", "成", "\"", "\\", "\n", "\r", "\t", "\u{1}", "\u{1F}", " ", "!", "#", "[", "]", "\u{7F}", "😀", "Ａ", "\u{8}", "\u{C}"]
        var random = SystemRandomNumberGenerator()
        var texts: [String] = []
        for special in ["\"", "\\", "\u{0}", "\u{1F}", "\n"] {
            for length in 1...24 {
                for offset in 0..<length {
                    var chars = Array(repeating: "x", count: length)
                    chars[offset] = special
                    texts.append(chars.joined())
                }
            }
        }
        for _ in 0..<3_000 {
            texts.append((0..<Int.random(in: 0...40, using: &random)).map { _ in pieces.randomElement(using: &random)! }.joined())
        }
        for text in texts {
            var bytes: [UInt8] = []
            JSONStringEscaper.append(text, to: &bytes)
            var string = ""
            JSONStringEscaper.append(text, to: &string)
            #expect(String(decoding: bytes, as: UTF8.self) == string)
            #expect(try JSON5.parseJSON(string) == .string(text))
            // JSON5's writer uses the same scan (and also writes \b and \f as such).
            #expect(try JSON5.parseJSON(JSONValue.string(text).jsonText()) == .string(text))
        }
    }

    @Test func backspaceAndFormFeedKeepEachWritersForm() {
        var bytes: [UInt8] = []
        JSONStringEscaper.append("\u{8}\u{C}", to: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == #""\u0008\u000c""#)
        #expect(JSONValue.string("\u{8}\u{C}").jsonText() == #""\b\f""#)
    }

    @Test func theEightByteTestNeverMissesAByteToEscape() {
        for special: UInt8 in [0x00, 0x01, 0x0A, 0x1F, 0x22, 0x5C] {
            for offset in 0..<8 {
                var bytes = [UInt8](repeating: 0x61, count: 8)
                bytes[offset] = special
                #expect(JSONEscapeScan.mayNeedEscape(bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
            }
        }
        #expect(!JSONEscapeScan.mayNeedEscape(Array("ab cd!#]".utf8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }))
    }
}
