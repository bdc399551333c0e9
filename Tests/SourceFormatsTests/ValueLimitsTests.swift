import Testing
@testable import SourceFormats

/// Values a reader accepts but the database cannot hold, and the readers' own refusals of hostile input.
@Suite struct ValueLimitsTests {
    func record(_ json: String, key: String? = nil) throws -> SourceRecord {
        let items = JSONRecordReader(source: source(json), keyField: key).readAll()
        return try #require(items.records.first)
    }

    @Test func goodRecordsHaveNoProblems() throws {
        let r = try record(#"{"xm":"张三","n":12.5,"z":0.000,"big":1e300,"small":-1.5e-300,"a":[1,{"b":null}],"t":true}"#)
        #expect(ValueLimits.standard.problems(in: r).isEmpty)
    }

    @Test func nulCharacterIsNamedByFieldWithoutTheValue() throws {
        let r = try record(#"{"xm":"a\u0000secret","jtys":{"td":"ok","xm":"b\u0000c"}}"#)
        let problems = ValueLimits.standard.problems(in: r)
        #expect(problems.map(\.field) == ["xm", "jtys.xm"])
        #expect(problems.allSatisfy { $0.rule == .nulCharacter })
        #expect(!problems.description.contains("secret"))
    }

    @Test func numbersOutOfRange() throws {
        let limits = ValueLimits.standard
        for bad in ["1e999999", "-1e1001", "1e-1001", "0.1e-1000", String(repeating: "9", count: 1_001), "1e99999999999999999999999"] {
            #expect(limits.numberProblem(bad) != nil, "\(bad.prefix(20))")
        }
        for good in ["0", "-0", "0e999999", "1e1000", "12345.678", "1E+5", "-1e-999", "0.0000001", String(repeating: "9", count: 1_000)] {
            #expect(limits.numberProblem(good) == nil, "\(good.prefix(20))")
        }
        let r = try record(#"{"sfzh":1e999999,"xm":"x"}"#)
        #expect(limits.problems(in: r).map(\.rule) == [.outOfRange])
        #expect(limits.problems(in: r).first?.field == "sfzh")
    }

    @Test func overLongTextKeysAndNames() throws {
        let long = String(repeating: "长", count: 30_000)   // 90,000 UTF-8 bytes
        var r = try record(#"{"id":"k","note":"\#(long)"}"#, key: "id")
        #expect(ValueLimits.standard.problems(in: r).map(\.field) == ["note"])
        r.sourceKey = String(repeating: "k", count: 600)
        #expect(ValueLimits.standard.problems(in: r).first?.field == "source key")
        let named = try record(#"{"a\u0000b":"x"}"#)
        let problem = try #require(ValueLimits.standard.problems(in: named).first)
        #expect(problem.field == "member 1" && problem.rule == .nulCharacter)
    }

    @Test func deepValuesAreTooDeep() throws {
        let nested = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        let r = try record(#"{"a":\#(nested)}"#)
        #expect(ValueLimits.standard.problems(in: r).map(\.rule) == [.tooDeep])
    }

    @Test func aRecordNestedTooDeepForTheParserIsSkippedAndReadingGoesOn() {
        let deep = String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000)
        let text = #"[{"a":"1"},{"b":\#(deep)},{"c":"3"}]"#
        let items = JSONRecordReader(source: source(text)).readAll()
        #expect(items.records.count == 2)
        #expect(items.errors.map(\.kind) == [.tooDeep])
        #expect(items.errors.first?.locator.index == 1)
        let ndjson = NDJSONRecordReader(source: source("{\"a\":1}\n{\"b\":\(deep)}\n{\"c\":3}\n")).readAll()
        #expect(ndjson.records.count == 2)
        #expect(ndjson.errors.map(\.kind) == [.tooDeep])
    }

    @Test func xmlWithADocumentTypeIsRefused() {
        let xxe = """
            <?xml version="1.0"?>
            <!-- a comment -->
            <!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>
            <r><row><a>&x;</a></row></r>
            """
        for selector in [XMLRecordSelector.element("row"), .xpath("//row")] {
            let items = XMLRecordReader(source: source(xxe), selector: selector).readAll()
            #expect(items.records.isEmpty)
            #expect(items.errors.map(\.kind) == [.documentType])
            #expect(!items.errors.description.contains("root:"))
        }
        var laughs = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
        for i in 1...9 { laughs += "<!ENTITY lol\(i) \"" + String(repeating: "&lol\(i == 1 ? "" : String(i - 1));", count: 10) + "\">" }
        laughs += "]>\n<lolz><row><a>&lol9;</a></row></lolz>"
        let items = XMLRecordReader(source: source(laughs), selector: .element("row")).readAll()
        #expect(items.errors.map(\.kind) == [.documentType])
        #expect(XMLDocumentTypeCheck.declaresDocumentType(Array("<r><!DOCTYPE in content is not a prolog></r>".utf8)) == false)
        let utf16 = Array("<?xml version=\"1.0\" encoding=\"UTF-16\"?><!DOCTYPE r><r/>".utf16).flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }
        #expect(XMLDocumentTypeCheck.declaresDocumentType([0xFF, 0xFE] + utf16))
    }
}
