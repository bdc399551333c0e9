import Testing
@testable import SourceFormats

@Suite struct JSONReaderTests {
    @Test func readsAnArrayOfRecordsWithLinesAndKeys() {
        let text = """
        [
          {"XM": "张三", "GMSFHM": "11010519491231002X", "n": 1.50, "ok": true, "none": null},
          {"XM": "李\\u56db", "GMSFHM": "440524188001010014", "nested": {"a": [1, "b"]}}
        ]
        """
        let items = JSONRecordReader(source: source(text, name: "p.json"), keyField: "GMSFHM").readAll()
        #expect(items.errors.isEmpty)
        let records = items.records
        #expect(records.count == 2)
        #expect(records[0].text("XM") == "张三")
        #expect(records[0].fields["n"] == .number("1.50"))
        #expect(records[0].fields["none"] == .null)
        #expect(records[0].sourceKey == "11010519491231002X")
        #expect(records[0].locator == SourceLocator(file: "p.json", line: 2, index: 0))
        #expect(records[1].text("XM") == "李四")
        #expect(records[1].locator.line == 3)
        #expect(records[1].fields.keys == ["XM", "GMSFHM", "nested"])
        #expect(records[1].fields["nested"]?.jsonText == #"{"a":[1,"b"]}"#)
    }

    @Test func singleObjectAndEnvelopePath() {
        let one = JSONRecordReader(source: source(#"{"a": "1"}"#)).readAll()
        #expect(one.records.count == 1)
        let paged = JSONRecordReader(source: source(#"{"page": 1, "data": {"items": [{"a": "1"}, {"a": "2"}]}}"#), recordsPath: "data.items").readAll()
        #expect(paged.records.map { $0.text("a") } == ["1", "2"])
        #expect(paged.records[1].locator.index == 1)
        let missing = JSONRecordReader(source: source(#"{"page": 1}"#), recordsPath: "data.items").readAll()
        #expect(missing.errors.first?.kind == .notAnObject)
    }

    @Test func syntaxErrorKeepsTheRecordsBeforeIt() {
        let text = "[\n{\"a\": \"1\"},\n{\"a\": \"2\",,},\n{\"a\": \"3\"}\n]"
        let items = JSONRecordReader(source: source(text, name: "bad.json")).readAll()
        #expect(items.records.count == 1)
        let error = try! #require(items.errors.first)
        #expect(error.kind == .invalidJSON)
        #expect(error.locator.line == 3)
        #expect(error.column == 11)
        #expect(error.description.hasPrefix("bad.json:3:11: invalid JSON"))
    }

    @Test func truncatedArrayAndNonObjectElements() {
        let items = JSONRecordReader(source: source(#"[{"a": "1"}, 42, {"a": "#)).readAll()
        #expect(items.records.count == 1)
        #expect(items.errors.map(\.kind) == [.notAnObject, .invalidJSON])
        #expect(JSONRecordReader(source: source("")).readAll().isEmpty)
        #expect(JSONRecordReader(source: source("\"x\"")).readAll().errors.first?.kind == .notAnObject)
    }

    @Test func badStringsAndNumbersAreErrorsNotCrashes() {
        for bad in [#"[{"a": 01}]"#, #"[{"a": 1.}]"#, #"[{"a": "\x"}]"#, #"[{"a": "\ud800"}]"#, "[{\"a\": \"\u{01}\"}]",
                    #"[{"a": tru}]"#, #"[{a: 1}]"#, String(repeating: "[", count: 1000)] {
            let items = JSONRecordReader(source: source(bad)).readAll()
            #expect(items.records.isEmpty, "\(bad)")
            #expect(items.errors.first?.kind == .invalidJSON, "\(bad)")
        }
        let invalidUTF8 = ByteSource(bytes: [0x5B, 0x7B, 0x22, 0x61, 0x22, 0x3A, 0x22, 0xC4, 0xD0, 0x22, 0x7D, 0x5D])
        #expect(JSONRecordReader(source: invalidUTF8).readAll().errors.first?.message.contains("UTF-8") == true)
    }

    /// Records keep a repeated key (lookup finds the first); API bodies refuse it (JSON5 parser).
    @Test func repeatedKeysAreKeptInRecords() {
        let items = JSONRecordReader(source: source(#"[{"a": "1", "a": "2"}, {"a": 3}]"#)).readAll()
        #expect(items.errors.isEmpty)
        #expect(items.records.first?.fields.keys == ["a", "a"])
        #expect(items.records.map { $0.text("a") } == ["1", "3"])
        let lines = NDJSONRecordReader(source: source("{\"a\": 1, \"a\": 2}\n")).readAll()
        #expect(lines.records.first?.fields.keys == ["a", "a"])
    }

    /// A bad number, escape or UTF-8 in one record refuses that record only; the array goes on.
    @Test func aLocalFaultRefusesOnlyItsRecord() {
        var bytes = Array(#"[{"a": "1"}, {"a": 01}, {"a": "\q"}, {"a": ""#.utf8)
        bytes += [0xC4, 0xD0] + Array(#""}, {"a": "5"}]"#.utf8)
        let items = JSONRecordReader(source: ByteSource(bytes: bytes, name: "t")).readAll()
        #expect(items.records.map { $0.text("a") } == ["1", "5"])
        #expect(items.errors.map(\.kind) == [.invalidJSON, .invalidJSON, .encoding])
        #expect(items.errors.allSatisfy { $0.description.contains("invalid JSON") })
    }

    @Test func errorDescriptionsHoldNoValues() {
        let items = JSONRecordReader(source: source(#"[{"GMSFHM": "11010519491231002X" "XM": "张三"}]"#)).readAll()
        let text = items.errors.map(\.description).joined()
        #expect(!text.contains("1101051949"))
        #expect(!text.contains("张三"))
    }
}

@Suite struct NDJSONReaderTests {
    @Test func badLinesAreErrorsAndTheOthersAreRead() {
        let text = "{\"a\": \"1\"}\n\n{\"a\": \n[1]\r\n{\"a\": \"4\"}\r\n{\"a\": \"5\"}"
        let items = NDJSONRecordReader(source: source(text, name: "x.ndjson")).readAll()
        #expect(items.records.map { $0.text("a") } == ["1", "4", "5"])
        #expect(items.records.map { $0.locator.line } == [1, 5, 6])
        #expect(items.errors.map(\.kind) == [.invalidJSON, .notAnObject])
        #expect(items.errors.map { $0.locator.line } == [3, 4])
    }

    @Test func streamsAcrossChunkBoundaries() {
        var text = ""
        for i in 0..<5000 { text += "{\"i\": \(i), \"pad\": \"\(String(repeating: "x", count: i % 50))\"}\n" }
        let items = NDJSONRecordReader(source: source(text)).readAll()
        #expect(items.records.count == 5000)
        #expect(items.records.last?.fields["i"] == .number("4999"))
        #expect(items.records.last?.locator.line == 5000)
    }

    @Test func overlongLineIsSkippedWithAnError() {
        let text = "{\"a\": \"1\"}\n{\"a\": \"\(String(repeating: "y", count: 300))\"}\n{\"a\": \"3\"}\n"
        let items = NDJSONRecordReader(source: source(text), maxLineLength: 100).readAll()
        #expect(items.records.map { $0.text("a") } == ["1", "3"])
        #expect(items.errors.first?.kind == .recordTooLarge)
        #expect(items.errors.first?.locator.line == 2)
    }

    @Test func missingFileIsAnIOError() {
        #expect(throws: SourceFormatError.self) { try ByteSource(path: "/nonexistent/x.ndjson") }
    }
}
