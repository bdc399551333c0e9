import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// The district console in a real browser: `recordonce demo` (the hub with its four simulated
/// departments) is started as a process, and Tests/browser/console_test.py drives Chromium through
/// Selenium against it: sign-in, overview counts against the API, pausing a department, resolving a
/// conflict, a match case linked and one rejected, a mapping error with its line, a subscription whose token pulls the feed, a masked
/// record revealed with an audit entry, and no request blocked by the Content-Security-Policy.
///
/// Chromium, chromedriver and Selenium come from deploy/setup. Their absence is a failure, never a
/// skip. Set RECORDONCE_CONSOLE_SCREENSHOTS to a folder (docs/console) to keep the screenshots.
@Suite(.serialized) struct ConsoleBrowserTests {
    static let chromium = "/usr/bin/chromium"
    static let chromedriver = "/usr/bin/chromedriver"

    @Test func theConsoleWorksInARealBrowserAgainstTheDemo() throws {
        try Self.requireBrowser()
        let folder = NSTemporaryDirectory() + "recordonce-console-\(UUID().uuidString.prefix(8))"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let demo = Process()
        demo.executableURL = URL(fileURLWithPath: Binary.path)
        demo.currentDirectoryURL = URL(fileURLWithPath: RepositoryRoot.path)
        let port = try Self.freePort()
        demo.arguments = ["demo", "--port", String(port), "--data-dir", folder, "--residents", "1500", "--every", "2s",
                          "--changes-per-minute", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "RECORDONCE_DATABASE_URL")
        environment["RECORDONCE_DEMO_SUMMARY_SECONDS"] = "2"
        demo.environment = environment
        let output = Pipe()
        demo.standardOutput = output
        demo.standardError = FileHandle.nullDevice
        try demo.run()
        defer {
            if demo.isRunning {
                kill(demo.processIdentifier, SIGINT)
                demo.waitUntilExit()
            }
        }
        let text = Locked("")
        Thread {
            while true {
                let chunk = output.fileHandleForReading.availableData
                if chunk.isEmpty { return }
                text.withValue { $0 += String(decoding: chunk, as: UTF8.self) }
            }
        }.start()

        // The hub, then the departments' first records.
        let base = "http://127.0.0.1:\(port)"
        try Self.waitFor("the demo's admin token", seconds: 120, output: text) { () -> Bool? in
            FileManager.default.fileExists(atPath: folder + "/admin.token") && (try? Self.getText(base + "/healthz", token: "")) != nil ? true : nil
        }
        let token = try String(contentsOfFile: folder + "/admin.token", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        try Self.waitFor("records from every department", seconds: 150, output: text) { () -> Bool? in
            guard let adapters = try? Self.getJSON(base + "/v1/adapters", token: token)["adapters"] as? [[String: Any]],
                  adapters.count >= 6 else { return nil }
            let loaded = adapters.allSatisfy { (($0["counters"] as? [String: Any])?["records_in"] as? Int ?? 0) > 0 }
            return loaded ? true : nil
        }
        // Pulls of a district that stopped changing bring nothing new: wait until the counts settle.
        var last = ""
        try Self.waitFor("the district's counts to settle", seconds: 90, output: text) { () -> Bool? in
            let now = (try? Self.getText(base + "/v1/stats/overview", token: token)) ?? ""
            defer { last = now }
            return now == last ? true : nil
        }

        let script = Process()
        script.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        script.arguments = ["python3", RepositoryRoot.path + "/Tests/browser/console_test.py"]
        var scriptEnvironment = ProcessInfo.processInfo.environment
        scriptEnvironment["HUB_URL"] = base
        scriptEnvironment["ADMIN_TOKEN"] = token
        scriptEnvironment["CHROMIUM"] = Self.chromium
        scriptEnvironment["CHROMEDRIVER"] = Self.chromedriver
        if let shots = ProcessInfo.processInfo.environment["RECORDONCE_CONSOLE_SCREENSHOTS"] {
            scriptEnvironment["SCREENSHOT_DIR"] = shots.hasPrefix("/") ? shots : RepositoryRoot.path + "/" + shots
        }
        script.environment = scriptEnvironment
        let scriptOutput = Pipe()
        script.standardOutput = scriptOutput
        script.standardError = scriptOutput
        try script.run()
        let report = String(decoding: scriptOutput.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        script.waitUntilExit()
        #expect(script.terminationStatus == 0, "the browser test failed:\n\(report)")
        #expect(report.contains("checks passed"), "the browser test did not finish:\n\(report)")
    }

    /// Fails (never skips) when Chromium, chromedriver or Selenium is missing.
    static func requireBrowser() throws {
        var missing: [String] = []
        for (path, package) in [(chromium, "chromium"), (chromedriver, "chromium-driver")]
        where !FileManager.default.isExecutableFile(atPath: path) {
            missing.append("\(path) (Debian package \(package))")
        }
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import selenium"]
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        if probe.terminationStatus != 0 { missing.append("the Python package selenium") }
        guard missing.isEmpty else {
            let ci = ProcessInfo.processInfo.environment["CI"] == "true" ? " (CI=true)" : ""
            Issue.record("the browser test needs \(missing.joined(separator: ", "))\(ci): run deploy/setup")
            throw Stopped()
        }
    }

    /// Ends the test after an issue was recorded.
    struct Stopped: Error {}

    @discardableResult
    static func waitFor<T>(_ what: String, seconds: Double, output: Locked<String>, _ probe: () throws -> T?) throws -> T {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let value = try probe() { return value }
            usleep(1_000_000)
        }
        Issue.record("timed out waiting for \(what); demo output:\n\(output.current.suffix(3000))")
        throw Stopped()
    }

    /// A port nothing listens on now (the demo's departments must know the hub's port up front).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { Issue.record("no free port"); throw Stopped() }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    static func getText(_ url: String, token: String) throws -> String {
        let done = DispatchSemaphore(value: 0)
        let result = Locked<Result<String, any Error>>(.success(""))
        var request = URLRequest(url: URL(string: url)!)
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        request.timeoutInterval = 10
        URLSession.shared.dataTask(with: request) { data, _, error in
            result.withValue { $0 = error.map { .failure($0) } ?? .success(String(decoding: data ?? Data(), as: UTF8.self)) }
            done.signal()
        }.resume()
        done.wait()
        return try result.current.get()
    }

    static func getJSON(_ url: String, token: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(getText(url, token: token).utf8)) as? [String: Any] ?? [:]
    }
}
