import Testing
@testable import SourceFormats

@Suite struct CSVReaderTests {
    @Test func quotedFieldsEscapedQuotesAndLineBreaks() {
        let text = "ID,NAME,NOTE\r\n1,\"Zhang, San\",\"says \"\"hi\"\"\"\r\n2,Li,\"two\nlines\"\r\n3,Wang,\r\n"
        let items = CSVRecordReader(source: source(text, name: "a.csv"), options: CSVOptions(keyColumn: "ID")).readAll()
        #expect(items.errors.isEmpty)
        let r = items.records
        #expect(r.count == 3)
        #expect(r[0].text("NAME") == "Zhang, San")
        #expect(r[0].text("NOTE") == "says \"hi\"")
        #expect(r[1].text("NOTE") == "two\nlines")
        #expect(r[2].text("NOTE") == "")
        #expect(r.map { $0.locator.line } == [2, 3, 5])
        #expect(r[2].sourceKey == "3")
    }

    @Test func raggedRowIsAnErrorWithCountsAndTheOthersAreRead() {
        let text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
        let items = CSVRecordReader(source: source(text, name: "r.csv")).readAll()
        #expect(items.records.map { $0.text("a") } == ["1", "10"])
        #expect(items.errors.count == 2)
        #expect(items.errors[0].kind == .raggedRow)
        #expect(items.errors[0].locator.line == 3)
        #expect(items.errors[0].message == "row has 2 fields, the header has 3")
        #expect(items.errors[1].message == "row has 4 fields, the header has 3")
        #expect(items.errors[1].description.hasPrefix("r.csv:4"))
    }

    @Test func unterminatedQuoteAndStrayQuote() {
        let stray = CSVRecordReader(source: source("a,b\n\"x\"y,2\n3,4\n")).readAll()
        #expect(stray.records.map { $0.text("a") } == ["3"])
        #expect(stray.errors.first?.kind == .unterminatedQuote)
        let open = CSVRecordReader(source: source("a,b\n1,2\n\"3,4\n5,6\n")).readAll()
        #expect(open.records.count == 1)
        #expect(open.errors.first?.kind == .unterminatedQuote)
        #expect(open.errors.first?.locator.line == 3)
    }

    @Test func delimiterNoHeaderAndBOM() {
        let items = CSVRecordReader(source: source("\u{FEFF}x;y\n1;2\n"), options: CSVOptions(delimiter: UInt8(ascii: ";"))).readAll()
        #expect(items.records.first?.fields.keys == ["x", "y"])
        let noHeader = CSVRecordReader(source: source("1\t2\n3\t4\n"), options: CSVOptions(delimiter: 9, hasHeader: false)).readAll()
        #expect(noHeader.records.map { $0.text("2") } == ["2", "4"])
        let dup = CSVRecordReader(source: source("a,a\n1,2\n")).readAll()
        #expect(dup.errors.first?.kind == .badHeader)
        #expect(CSVRecordReader(source: source("")).readAll().isEmpty)
    }

    /// 王小明 and the 4-byte sequences of U+3400 and U+20000 in GB18030, no BOM.
    static let gbBytes: [UInt8] = Array("SFZH,XM\n".utf8) + Array("1,".utf8) + [205, 245, 208, 161, 195, 247] + [0x0A]
        + Array("2,".utf8) + [129, 57, 238, 57, 149, 50, 130, 54] + [0x0A]

    @Test func gb18030IsDetectedAndDecodedIncludingFourByteSequences() {
        let reader = CSVRecordReader(source: ByteSource(bytes: Self.gbBytes, name: "gb.csv"))
        let items = reader.readAll()
        #expect(items.errors.isEmpty)
        #expect(reader.encoding == .gb18030)
        #expect(items.records.map { $0.text("XM") } == ["王小明", "\u{3400}\u{20000}"])
        let declared = CSVRecordReader(source: ByteSource(bytes: Self.gbBytes), options: CSVOptions(encoding: TextEncoding(name: "GBK"))).readAll()
        #expect(declared.records.count == 2)
    }

    @Test func declaredUTF8ButGB18030BytesIsAClearErrorPerRow() {
        let items = CSVRecordReader(source: ByteSource(bytes: Self.gbBytes, name: "gb.csv"), options: CSVOptions(encoding: .utf8)).readAll()
        #expect(items.records.isEmpty)
        #expect(items.errors.count == 2)
        #expect(items.errors[0].kind == .encoding)
        #expect(items.errors[0].locator.line == 2)
        #expect(items.errors[0].message.contains("declared UTF-8"))
        #expect(items.errors[0].message.contains("GB18030"))
    }

    @Test func utf8IsDetectedAndInvalidGB18030IsAnError() {
        let items = CSVRecordReader(source: source("XM\n王小明\n")).readAll()
        #expect(items.records.first?.text("XM") == "王小明")
        let bad = CSVRecordReader(source: ByteSource(bytes: Array("XM\n".utf8) + [0xFF, 0xFF, 0x0A] + Array("ok\n".utf8)), options: CSVOptions(encoding: .gb18030)).readAll()
        #expect(bad.errors.first?.kind == .encoding)
        #expect(bad.records.map { $0.text("XM") } == ["ok"])
    }

    @Test func streamsLargeFilesAcrossChunks() {
        var text = "n,quoted\n"
        for i in 0..<20000 { text += "\(i),\"a,\"\"b\"\"\nc\"\n" }
        let items = CSVRecordReader(source: source(text)).readAll()
        #expect(items.errors.isEmpty)
        #expect(items.records.count == 20000)
        #expect(items.records.last?.text("quoted") == "a,\"b\"\nc")
        #expect(items.records.last?.locator.line == 2 + 19999 * 2)
    }

    @Test func errorDescriptionsHoldNoValues() {
        let items = CSVRecordReader(source: source("ID,XM\n11010519491231002X,张三,extra\n")).readAll()
        #expect(!items.errors[0].description.contains("张三"))
        #expect(!items.errors[0].description.contains("11010519491231002X"))
    }
}
