import Testing
@testable import SourceFormats

@Suite struct XMLReaderTests {
    static let soap = """
    <?xml version="1.0" encoding="UTF-8"?>
    <soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
      <soap:Body>
        <queryResponse>
          <AC01 seq="1">
            <AAC001>P001</AAC001>
            <AAC003>王小明</AAC003>
            <AAC006 xsi:nil="true"/>
            <AAE140>110</AAE140>
            <AAE140>310</AAE140>
            <AAB>
              <AAB001>E9</AAB001>
            </AAB>
          </AC01>
          <AC01 seq="2"><AAC001>P002</AAC001><AAC003/></AC01>
        </queryResponse>
      </soap:Body>
    </soap:Envelope>
    """

    @Test func elementRecordsWithAttributesNilRepeatsAndNesting() throws {
        let items = XMLRecordReader(source: source(Self.soap, name: "si.xml"), selector: .element("AC01"), keyField: "AAC001").readAll()
        #expect(items.errors.isEmpty)
        let r = items.records
        #expect(r.count == 2)
        #expect(r[0].text("@seq") == "1")
        #expect(r[0].text("AAC003") == "王小明")
        #expect(r[0].fields["AAC006"] == .null)
        #expect(r[0].fields["AAE140"] == .array([.string("110"), .string("310")]))
        #expect(r[0].fields["AAB"]?.jsonText == #"{"AAB001":"E9"}"#)
        #expect(r[0].sourceKey == "P001")
        #expect(r[0].locator.line == 5)
        #expect(r[0].locator.path == "AC01[1]")
        #expect(r[1].text("AAC003") == "")
        #expect(r[1].locator.description == "si.xml:15 AC01[2]")
    }

    @Test func xpathSelectsRecords() {
        let items = XMLRecordReader(source: source(Self.soap), selector: .xpath("//*[local-name()='AC01'][@seq='2']")).readAll()
        #expect(items.records.map { $0.text("AAC001") } == ["P002"])
        let bad = XMLRecordReader(source: source(Self.soap), selector: .xpath("//[")).readAll()
        #expect(bad.errors.first?.kind == .invalidXPath)
    }

    @Test func notWellFormedKeepsEarlierRecordsAndGivesTheLine() {
        let text = "<r>\n<row><A>1</A></row>\n<row><A>2</A></row>\n<row><A>3</B></row>\n<row><A>4</A></row>\n</r>"
        let items = XMLRecordReader(source: source(text, name: "bad.xml"), selector: .element("row")).readAll()
        #expect(items.records.map { $0.text("A") } == ["1", "2"])
        let error = try! #require(items.errors.first)
        #expect(error.kind == .notWellFormedXML)
        #expect(error.locator.line == 4)
        #expect(error.description.hasPrefix("bad.xml:4"))
        let xpath = XMLRecordReader(source: source(text, name: "bad.xml"), selector: .xpath("//row")).readAll()
        #expect(xpath.records.isEmpty)
        #expect(xpath.errors.first?.locator.line == 4)
    }

    @Test func truncatedDocument() {
        let items = XMLRecordReader(source: source("<r><row><A>1</A></row><row><A>2"), selector: .element("row")).readAll()
        #expect(items.records.count == 1)
        #expect(items.errors.first?.kind == .notWellFormedXML)
    }

    @Test func wrongEncodingIsAnEncodingErrorWithoutTheBytes() {
        // Declared UTF-8, but the name is GB18030 bytes.
        let bytes = Array("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<r><row><A>".utf8) + [205, 245, 208, 161] + Array("</A></row></r>".utf8)
        let items = XMLRecordReader(source: ByteSource(bytes: bytes, name: "enc.xml"), selector: .element("row")).readAll()
        let error = try! #require(items.errors.first)
        #expect(error.kind == .encoding)
        #expect(error.locator.line == 2)
        #expect(!error.description.contains("0xCD"))
    }

    @Test func declaredGB18030IsDecoded() {
        let bytes = Array("<?xml version=\"1.0\" encoding=\"GB18030\"?>\n<r><row><A>".utf8) + [205, 245, 149, 50, 130, 54] + Array("</A></row></r>".utf8)
        let items = XMLRecordReader(source: ByteSource(bytes: bytes), selector: .element("row")).readAll()
        #expect(items.records.first?.text("A") == "王\u{20000}")
    }

    @Test func garbageAndEmptyInputDoNotCrash() {
        for text in ["", "not xml at all", "<", "<a><b></a>", "\u{0}\u{1}"] {
            let items = XMLRecordReader(source: source(text), selector: .element("row")).readAll()
            #expect(items.records.isEmpty)
            #expect(!items.errors.isEmpty, "\(text)")
        }
        let missing = XMLRecordReader(path: "/nonexistent.xml", selector: .element("row")).readAll()
        #expect(!missing.errors.isEmpty)
    }
}
