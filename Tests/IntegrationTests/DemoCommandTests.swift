import Foundation
import Testing

/// `recordonce demo` as a newcomer runs it: records from all four departments show up in the
/// summary, and Ctrl-C stops the departments, the hub and its PostgreSQL.
@Suite(.serialized) struct DemoCommandTests {
    @Test func recordsFlowFromAllFourDepartmentsAndCtrlCStopsEverything() throws {
        let folder = NSTemporaryDirectory() + "recordonce-demo-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Binary.path)
        process.currentDirectoryURL = URL(fileURLWithPath: Binary.path).deletingLastPathComponent()
            .deletingLastPathComponent().deletingLastPathComponent()
        process.arguments = ["demo", "--port", "0", "--data-dir", folder, "--residents", "2000", "--every", "2s"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "RECORDONCE_DATABASE_URL")
        environment["RECORDONCE_DEMO_SUMMARY_SECONDS"] = "2"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = Locked("")
        let reader = Thread {
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                text.withValue { $0 += String(decoding: chunk, as: UTF8.self) }
            }
        }
        reader.start()

        // The summary goes to a pipe every 2 s here (RECORDONCE_DEMO_SUMMARY_SECONDS); wait for one that has
        // records in from each department's adapter (pull: police, social security, the three
        // civil affairs drops; push: health).
        let adapters = ["police-hukou", "social-security", "health-records", "civil-dibao", "civil-marriage", "civil-death"]
        func counts(_ summary: String) -> [String: Int] {
            var found: [String: Int] = [:]
            for line in summary.split(separator: "\n") {
                let words = line.split(separator: " ")
                if words.count >= 4, adapters.contains(String(words[0])), let n = Int(words[3]) { found[String(words[0])] = n }
            }
            return found
        }
        let deadline = Date().addingTimeInterval(100)
        var last: [String: Int] = [:]
        while Date() < deadline && process.isRunning {
            let summaries = text.current.components(separatedBy: "RecordOnce demo, ")
            if summaries.count > 1 { last = counts(summaries.last!) }
            if adapters.allSatisfy({ (last[$0] ?? 0) > 0 }) { break }
            usleep(500_000)
        }
        #expect(adapters.allSatisfy { (last[$0] ?? 0) > 0 }, "records in per adapter: \(last)\n\(text.current)")
        #expect(text.current.contains("Person"))

        kill(process.processIdentifier, SIGINT)
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        #expect(ServeLifecycleTests.postgresProcesses(for: folder).isEmpty, "the demo's PostgreSQL outlived it")
    }
}
