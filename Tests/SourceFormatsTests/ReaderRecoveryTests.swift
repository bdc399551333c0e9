import Testing
@testable import SourceFormats

/// Readers step over one bad record and go on, where the format lets them find the next one.
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
