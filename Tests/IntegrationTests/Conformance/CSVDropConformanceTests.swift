import Adapters
import DemoDepartments
import Foundation
import Testing

/// csv-drop against the demo civil affairs drop folders (GB18030 CSV files).
@Suite struct CSVDropConformanceTests {
    static func source(_ folder: String, encoding: String = "detect") throws -> any PullSource {
        let node = try pullSettings("""
            { kind: 'csv-drop', folder: '\(folder)', pattern: '*.csv', encoding: '\(encoding)', mappingEncoding: 'gb18030', complete: 'marker' }
            """)
        #expect(CSVDropKind.validate(node, file: "civil.json5").isEmpty)
        return try CSVDropKind.makeSource(node, context: pullContext("civil-death"))
    }

    static func files(_ folder: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []).filter { $0.hasSuffix(".csv") }.sorted()
    }

    @Test func filesAreTakenOnceInOrderAndSurviveARestart() throws {
        let (systems, folder) = try demoSystems(residents: 2000)
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let drop = systems.civilAffairs.folder(for: .civilDeath)
        let deaths = try #require(systems.population.civilExports[.civilDeath])
        #expect(!deaths.isEmpty)
        // Two more files of deaths during the demo.
        for _ in 0..<3 { systems.changes.apply(.death) }
        systems.civilAffairs.flush()
        for _ in 0..<2 { systems.changes.apply(.death) }
        systems.civilAffairs.flush()
        let dropped = Self.files(drop)
        #expect(dropped.count == 3)

        let store = try ConformanceStore(adapterID: "civil-death", department: "civil-affairs")
        let source = try Self.source(drop)
        // One file, then the process dies after storing the second but before moving it.
        try store.run(source, maxPages: 1)
        let second = try #require(try source.nextPage(after: try store.checkpoint()))
        _ = try store.store(second, from: ProcessDiesBeforeMoving())
        #expect(try store.checkpoint() == dropped[1])
        #expect(Self.files(drop) == Array(dropped[1...]))

        let restarted = try Self.source(drop)
        let rest = try store.run(restarted)
        #expect(rest.map(\.name) == [dropped[2]], "the stored file is moved without being read again")
        #expect(Self.files(drop).isEmpty)
        #expect(Self.files(drop + "/done") == dropped)
        #expect(try store.totals().keys == deaths.count + 5)
        #expect(try store.run(restarted).isEmpty)
    }

    @Test func aFileIsNotTakenBeforeItIsComplete() throws {
        let folder = try temporaryFolder("ro-drop")
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let text = "死亡证明编号,身份证号,姓名\r\nS1,510108194006030150,周九\r\n"
        try Data(text.data(using: String.Encoding(rawValue: 0x8000_0632))!).write(to: URL(fileURLWithPath: folder + "/a.csv"))
        let marker = try Self.source(folder)
        #expect(try marker.nextPage(after: nil) == nil, "no .done marker yet")
        FileManager.default.createFile(atPath: folder + "/a.csv.done", contents: Data())
        #expect(try marker.nextPage(after: nil)?.name == "a.csv")

        try Data(text.data(using: String.Encoding(rawValue: 0x8000_0632))!).write(to: URL(fileURLWithPath: folder + "/b.csv"))
        FileManager.default.createFile(atPath: folder + "/b.csv.done", contents: Data())
        let small = try CSVDropKind.makeSource(try pullSettings("{ kind: 'csv-drop', folder: '\(folder)', complete: 'marker', maxFileBytes: 10 }"),
                                               context: pullContext("civil-death"))
        let tooLarge = pullFailure { () throws(PullFailure) in try small.nextPage(after: "a.csv") }
        #expect(tooLarge?.message.contains("more than pull.maxFileBytes") == true, "\(tooLarge?.message ?? "")")
        #expect(FileManager.default.fileExists(atPath: folder + "/failed/b.csv.reason.txt"))
        #expect(FileManager.default.fileExists(atPath: folder + "/done/a.csv"), "the checkpoint's file is moved, not read")

        let stable = try CSVDropKind.makeSource(try pullSettings("{ kind: 'csv-drop', folder: '\(folder)', complete: 'stable', stableSeconds: 3600 }"),
                                                context: pullContext("civil-death"))
        #expect(try stable.nextPage(after: nil) == nil, "written less than an hour ago")
    }

    @Test func wrongEncodingAndGarbageGoToFailedWithAReasonAndGoodFilesStillLand() throws {
        let (systems, folder) = try demoSystems(residents: 2000)
        defer { systems.stop(); try? FileManager.default.removeItem(atPath: folder) }
        let drop = systems.civilAffairs.folder(for: .civilDeath)
        systems.civilAffairs.faults.inject(.wrongEncoding)
        systems.changes.apply(.death)
        systems.civilAffairs.flush()                 // UTF-8 file, declared GB18030
        systems.civilAffairs.faults.inject(.notWellFormed)
        systems.changes.apply(.death)
        systems.civilAffairs.flush()                 // bytes that are no text at all
        systems.changes.apply(.death)
        systems.civilAffairs.flush()                 // a good file after the bad ones
        let names = Self.files(drop)
        #expect(names.count == 4)

        let store = try ConformanceStore(adapterID: "civil-death", department: "civil-affairs")
        let source = try Self.source(drop, encoding: "gb18030")
        // The run stores the initial export, then meets the UTF-8 file and stops.
        var wrong: PullFailure?
        do { try store.run(source) } catch let failure as PullFailure { wrong = failure }
        #expect(Self.files(drop + "/done") == [names[0]])
        #expect(wrong?.kind == .retriable)
        #expect(wrong?.message.contains(names[1]) == true)
        #expect(wrong?.message.contains("declared GB18030 but the file is UTF-8") == true, "\(wrong?.message ?? "")")
        let garbage = pullFailure { () throws(PullFailure) in try source.nextPage(after: try? store.checkpoint()) }
        #expect(garbage?.message.contains("not valid GB18030") == true, "\(garbage?.message ?? "")")
        try store.run(source)
        #expect(Self.files(drop + "/failed") == [names[1], names[2]])
        let reason = try String(contentsOfFile: drop + "/failed/\(names[1]).reason.txt", encoding: .utf8)
        #expect(reason.contains("UTF-8"))
        #expect(Self.files(drop + "/done") == [names[0], names[3]])
        #expect(try store.totals().keys == systems.population.civilExports[.civilDeath]!.count + 1)

        // Detected instead of declared, a UTF-8 file is read and converted for the GB18030 mapping.
        systems.civilAffairs.faults.inject(.wrongEncoding)
        systems.changes.apply(.death)
        systems.civilAffairs.flush()
        let detecting = try Self.source(drop, encoding: "detect")
        #expect(try store.run(detecting).count == 1)
        #expect(try store.totals().keys == systems.population.civilExports[.civilDeath]!.count + 2)
    }
}

/// A source whose `didStore` never runs: the process died between commit and move.
final class ProcessDiesBeforeMoving: PullSource, @unchecked Sendable {
    func nextPage(after checkpoint: String?) throws(PullFailure) -> PulledPage? { nil }
    func didStore(_ page: PulledPage) throws(PullFailure) {}
}
