import Foundation
import Testing
@testable import Mapping
import SourceFormats

/// A temporary folder removed at the end of the test.
final class TempDir {
    let path: String
    init() {
        path = NSTemporaryDirectory() + "mapping-tests-" + UUID().uuidString
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        FileManager.default.createFile(atPath: file, contents: Data(text.utf8))
        return file
    }
}

@Suite struct MappingTestRunnerTests {
    static let mapping = personMapping(#"name: { from: "XM", transforms: ["trim"] }, sex: { from: "XB", crosswalk: "sex" },"#,
                                       extra: #"crosswalks: { sex: { "男": "1", "女": "2" } }, skip: { field: "DEL", equals: "1" },"#)

    @Test func passingAndFailingCasesWithDiffs() {
        let dir = TempDir()
        _ = dir.write("p.json5", Self.mapping)
        let tests = dir.write("p.tests.json5", """
        {
          cases: [
            { name: "ok", input: { ID: "11010519491231002X", XM: " 张三 ", XB: "男" },
              expect: [{ resource: "Person", identity: { citizen_id: "11010519491231002X" }, fields: { citizen_id: "11010519491231002X", name: "张三", sex: "1" } }] },
            { name: "wrong expectation", input: { ID: "11010519491231002X", XM: "张三", XB: "女" },
              expect: [{ resource: "Person", fields: { citizen_id: "11010519491231002X", name: "李四", sex: "2", mobile: "1" } }] },
            { name: "rejected", input: { ID: "1.10105E+17" }, reject: [{ field: "Person.citizen_id", rule: "citizen_id.excel_damaged" }] },
            { name: "expected rejection but accepted", input: { ID: "11010519491231002X" }, reject: [{ rule: "citizen_id.excel_damaged" }] },
            { name: "skipped", input: { DEL: "1" }, skipped: true },
            { name: "missing warning", input: { ID: "11010519491231002X", XB: "x" }, expect: [{ fields: { citizen_id: "11010519491231002X" } }],
              warnings: [{ rule: "mobile.format" }] },
          ],
        }
        """)
        let result = MappingTestRunner(schema: testSchema).run(testsFile: tests)
        #expect(result.problems.isEmpty)
        #expect(result.mappingFile.hasSuffix("p.json5"))
        #expect(result.cases.map(\.passed) == [true, false, true, false, true, false])
        #expect(result.failed == 3)
        let diff = result.cases[1].diff
        #expect(diff.contains("- record 1.name: 李四"))
        #expect(diff.contains("+ record 1.name: 张三"))
        #expect(diff.contains("- record 1.mobile: 1"))
        #expect(result.cases[3].diff.first == "- expected rejection")
        #expect(result.cases[5].diff.contains { $0.hasPrefix("- warning") })
        #expect(result.text().contains("FAIL wrong expectation (line 5)"))
    }

    @Test func invalidFilesAreProblemsWithPositions() {
        let dir = TempDir()
        _ = dir.write("p.json5", Self.mapping)
        let malformed = dir.write("bad.tests.json5", "{ mapping: 'p.json5', cases: [ { input: {} ,, ] }")
        let r1 = MappingTestRunner(schema: testSchema).run(testsFile: malformed)
        #expect(r1.problems.first?.rule == "tests.json5")
        #expect(r1.problems.first?.position?.line == 1)
        let unknownKey = dir.write("k.tests.json5", "{ mapping: 'p.json5', cases: [ { input: {}, expected: [] } ] }")
        #expect(MappingTestRunner(schema: testSchema).run(testsFile: unknownKey).problems.first?.rule == "mapping.unknown_key")
        _ = dir.write("broken.json5", "{ id: 'x' }")
        let brokenMapping = dir.write("broken.tests.json5", "{ cases: [ { input: {}, skipped: true } ] }")
        let r3 = MappingTestRunner(schema: testSchema).run(testsFile: brokenMapping)
        #expect(!r3.problems.isEmpty)
        #expect(r3.cases.isEmpty)
        #expect(MappingTestRunner(schema: testSchema).run(testsFile: dir.path + "/none.tests.json5").problems.first?.rule == "tests.io")
        #expect(MappingTestRunner.testsFile(for: "mappings/a.json5") == "mappings/a.tests.json5")
    }
}

@Suite struct DryRunReportTests {
    /// A value the hub cannot store is a rejection in the dry run too, as it would be on a push.
    @Test func unstorableValuesAreRejectedAsOnAPush() throws {
        let plan = try MappingPlan.compile(text: """
        { id: "csv", version: 1,
          source: { adapter: "a", department: "d", format: "csv", csv: { encoding: "utf-8" } },
          outputs: [{ resource: "Person", partial: true, fields: { citizen_id: "ID", name: "XM" } }] }
        """, file: "csv.json5", schema: testSchema)
        let csv = "ID,XM\n11010519491231002X,张三\n11010519491231002X,a\u{0}b\n"
        let reader = CSVRecordReader(source: ByteSource(bytes: Array(csv.utf8), name: "s.csv"), options: plan.source.readOptions.csv)
        let report = DryRunReport.run(plan: plan, reader: reader, sample: "s.csv")
        #expect(report.accepted == 1 && report.rejected == 1)
        #expect(report.rejections.first?.rule == "value.nul_character")
        #expect(report.rejections.first?.field == "XM")
    }

    @Test func countsGroupsFillCodesAndMasking() throws {
        let plan = try MappingPlan.compile(text: """
        { id: "csv", version: 1,
          source: { adapter: "a", department: "d", format: "csv", csv: { encoding: "utf-8" } },
          skip: { field: "DEL", equals: "1" },
          outputs: [{ resource: "Person", partial: true, fields: { citizen_id: "ID", name: "XM", sex: "XB" } }] }
        """, file: "csv.json5", schema: testSchema)
        let csv = """
        ID,XM,XB,DEL
        11010519491231002X,张三,1,0
        11010519491231002X,李四,2,0
        11010519491231002Y,王五,1,0
        11010519491231002X,赵六,1
        11010519491231002X,钱七,7,0
        11010519491231002X,,1,1
        """
        let reader = CSVRecordReader(source: ByteSource(bytes: Array(csv.utf8), name: "s.csv"), options: plan.source.readOptions.csv)
        let report = DryRunReport.run(plan: plan, reader: reader, sample: "s.csv")
        #expect(report.read == 6)
        #expect(report.accepted == 3)
        #expect(report.rejected == 2)
        #expect(report.skipped == 1)
        #expect(report.sourceErrors.first?.rule == "source.csv.ragged_row")
        #expect(report.rejections.first?.rule == "citizen_id.check_digit")
        #expect(report.rejections.first?.examples.first == "s.csv:4 [2] value=110*************2Y")
        #expect(report.warnings.first?.rule == "code.unknown")
        #expect(report.fill.first?.records == 3)
        #expect(report.fill.first?.fields.first { $0.name == "sex" }?.filled == 2)
        #expect(report.codes["Person.sex"] == ["1": 1, "2": 1])
        let text = report.text()
        #expect(text.contains("records read: 6, accepted: 3, rejected: 2, skipped: 1"))
        #expect(!text.contains("11010519491231002Y"))
        #expect(text.contains("(values masked"))
        #expect(report.json().hasPrefix(#"{"sample":"s.csv","read":6,"accepted":3,"rejected":2,"skipped":1"#))
        let shown = DryRunReport.run(plan: plan, reader: CSVRecordReader(source: ByteSource(bytes: Array(csv.utf8), name: "s.csv")),
                                     sample: "s.csv", showValues: true)
        #expect(shown.text().contains("value=11010519491231002Y"))
    }
}

/// The mappings shipped in mappings/ are valid against the shipped catalog and their tests pass.
@Suite struct ShippedMappingsTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    @Test func everyShippedMappingValidatesAndPassesItsTests() throws {
        let schema = try MappingSchema.load(catalogDirectory: Self.root + "/mappings/catalog")
        let names = try FileManager.default.contentsOfDirectory(atPath: Self.root + "/mappings")
            .filter { $0.hasSuffix(".json5") && !$0.hasSuffix(".tests.json5") }.sorted()
        #expect(names.count == 7)
        for name in names {
            let file = Self.root + "/mappings/" + name
            #expect(MappingValidator.validate(file: file, schema: schema).isEmpty, "\(name)")
            let result = MappingTestRunner(schema: schema).run(testsFile: MappingTestRunner.testsFile(for: file))
            #expect(result.problems.isEmpty, "\(name)")
            #expect(result.failed == 0, "\(result.text())")
            #expect(result.cases.count >= 6, "\(name)")
        }
    }

    @Test func samplesAreReadInTheirFormatsWithTheExpectedCounts() throws {
        let schema = try MappingSchema.load(catalogDirectory: Self.root + "/mappings/catalog")
        let samples: [(String, String, Int, Int)] = [
            ("police-hukou", "police-hukou.json", 12, 3), ("social-security", "social-security.xml", 7, 2),
            ("health-records", "health-records.json", 6, 1), ("civil-dibao", "civil-dibao.csv", 6, 3),
            ("civil-marriage", "civil-marriage.csv", 6, 1), ("civil-death", "civil-death.csv", 5, 2),
        ]
        for (mapping, sample, read, rejected) in samples {
            let plan = try MappingValidator.load(file: Self.root + "/mappings/\(mapping).json5", schema: schema)
            let reader = try SourceReaders.open(path: Self.root + "/mappings/samples/\(sample)", options: plan.source.readOptions)
            let report = DryRunReport.run(plan: plan, reader: reader, sample: sample)
            #expect(report.read == read, "\(sample)")
            #expect(report.rejected == rejected, "\(sample)")
        }
    }

    @Test func gb18030SampleDecodesRareCharactersAndUTF8DeclarationFailsClearly() throws {
        let path = Self.root + "/mappings/samples/civil-dibao.csv"
        let items = CSVRecordReader(source: try ByteSource(path: path), options: CSVOptions(encoding: .gb18030)).readAll()
        #expect(items.compactMap(\.record).contains { $0["户主姓名"]?.scalarText == "刘\u{2A6A5}" })
        let wrong = CSVRecordReader(source: try ByteSource(path: path), options: CSVOptions(encoding: .utf8)).readAll()
        #expect(wrong.compactMap(\.error).first?.kind == .encoding)
        #expect(wrong.compactMap(\.error).first?.message.contains("GB18030") == true)
    }
}
