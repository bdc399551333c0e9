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

@Suite struct JSONRecordRecoveryTests {
    @Test func aFaultInsideOneStringRefusesOnlyThatRecord() {
        var bytes = Array(#"[{"a":"1"},{"b":"x"#.utf8) + [0xC0, 0xAF] + Array(#""},{"c":"bad\q"},{"d":"4"}]"#.utf8)
        var items = JSONRecordReader(source: ByteSource(bytes: bytes, name: "t")).readAll()
        #expect(items.records.compactMap { $0.fields.keys.first } == ["a", "d"])
        #expect(items.errors.map(\.kind) == [.encoding, .invalidJSON])
        #expect(items.errors.map { $0.locator.index } == [1, 2])
        // A broken structure still ends the array: what follows cannot be trusted.
        bytes = Array(#"[{"a":"1"},{"b":"x" "y"},{"d":"4"}]"#.utf8)
        items = JSONRecordReader(source: ByteSource(bytes: bytes, name: "t")).readAll()
        #expect(items.records.count == 1 && items.errors.count == 1)
    }
}

@Suite struct XMLFaultRecoveryTests {
    /// libxml2 reads ahead: expanding the last good record can run into the fault after it.
    @Test func aFaultJustAfterARecordKeepsThatRecord() {
        var records = ""
        for i in 1...2 {
            records += "  <row>\n" + (1...8).map { "    <f\($0)>v\(i)</f\($0)>\n" }.joined() + "  </row>\n"
        }
        for fault in ["a\u{0}b", "a&#0;b"] {
            let text = "<?xml version=\"1.0\"?>\n<r>\n" + records + "  <row>\n    <f1>" + fault + "</f1>\n  </row>\n</r>\n"
            let items = XMLRecordReader(source: source(text), selector: .element("row")).readAll()
            #expect(items.records.count == 2)
            #expect(items.errors.map(\.kind) == [.notWellFormedXML])
        }
    }
}

@Suite struct JSONEnvelopeTests {
    @Test func recordsInAnEnvelopeAreReadOneByOne() {
        let text = #"{"code": 0, "meta": {"x": [1, {"y": "}"}]}, "data": {"page": 2, "items": [{"a": "1"}, {"b": "bad\q"}, {"c": "3"}], "more": true}}"#
        let items = JSONRecordReader(source: source(text), recordsPath: "data.items").readAll()
        #expect(items.records.compactMap { $0.fields.keys.first } == ["a", "c"])
        #expect(items.errors.map(\.kind) == [.invalidJSON])
        #expect(items.errors.first?.locator.index == 1)
        let one = JSONRecordReader(source: source(#"{"data": {"items": {"a": "1"}}}"#), recordsPath: "data.items").readAll()
        #expect(one.records.count == 1)
        let scalar = JSONRecordReader(source: source(#"{"data": {"items": 3}}"#), recordsPath: "data.items").readAll()
        #expect(scalar.errors.map(\.kind) == [.notAnObject])
        let notObject = JSONRecordReader(source: source(#"{"data": [1]}"#), recordsPath: "data.items").readAll()
        #expect(notObject.errors.map(\.kind) == [.notAnObject])
        let broken = JSONRecordReader(source: source(#"{"page": 1, "data" 3}"#), recordsPath: "data.items").readAll()
        #expect(broken.errors.map(\.kind) == [.invalidJSON])
    }
}
