import Foundation
import Testing

/// `recordonce serve` as an operator runs it: start, Ctrl-C, start again, kill -9, start again.
@Suite(.serialized) struct ServeLifecycleTests {
    /// A running `recordonce serve` process and the port it reported.
    final class ServeProcess: @unchecked Sendable {
        let process = Process()
        let port: Int
        private let errors = Pipe()
        private(set) var log = ""

        init(dataDirectory: String, arguments: [String] = [], environment extra: [String: String] = [:]) throws {
            process.executableURL = URL(fileURLWithPath: Binary.path)
            process.arguments = ["serve", "--port", "0", "--data-dir", dataDirectory, "--log-format", "text"] + arguments
            var environment = ProcessInfo.processInfo.environment
            environment.removeValue(forKey: "RECORDONCE_DATABASE_URL")
            environment.removeValue(forKey: "RECORDONCE_ADMIN_TOKEN")
            environment.merge(extra) { $1 }
            process.environment = environment
            process.standardError = errors
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            let deadline = Date().addingTimeInterval(60)
            var found: Int?
            while found == nil && Date() < deadline && process.isRunning {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { usleep(50_000); continue }
                log += String(decoding: chunk, as: UTF8.self)
                if let line = log.split(separator: "\n").first(where: { $0.contains("hub listening") }),
                   let range = line.range(of: "port=") {
                    found = Int(line[range.upperBound...].prefix { $0.isNumber })
                }
            }
            guard let found else {
                process.terminate()
                throw HubDidNotStart(log: log)
            }
            port = found
        }

        struct HubDidNotStart: Error, CustomStringConvertible {
            let log: String
            var description: String { "the hub did not report its port:\n\(log)" }
        }

        /// Sends a signal and waits for the process to end; returns its exit status.
        func stop(_ signo: Int32) -> Int32 {
            kill(process.processIdentifier, signo)
            process.waitUntilExit()
            return process.terminationStatus
        }
    }

    /// Live postgres processes whose command line names this folder.
    static func postgresProcesses(for folder: String) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") else { return false }
            let cmdline = String(decoding: data.map { $0 == 0 ? 32 : $0 }, as: UTF8.self)
            return cmdline.contains("postgres") && cmdline.contains(folder)
        }
    }

    @Test func ctrlCStopsHubAndPostgresAndKillMinus9IsRecoverable() async throws {
        let folder = try temporaryFolder("ro-serve")
        defer { try? FileManager.default.removeItem(atPath: folder) }

        let first = try ServeProcess(dataDirectory: folder)
        #expect(try await httpRequest("http://127.0.0.1:\(first.port)/readyz").status == 200)
        let token = try String(contentsOfFile: folder + "/admin.token", encoding: .utf8)
        #expect(!Self.postgresProcesses(for: folder).isEmpty)
        #expect(first.stop(SIGINT) == 0)
        #expect(Self.postgresProcesses(for: folder).isEmpty, "postgres still running after Ctrl-C")

        // Starting again reuses the cluster and its data: the admin token is not regenerated.
        let second = try ServeProcess(dataDirectory: folder)
        #expect(try await httpRequest("http://127.0.0.1:\(second.port)/readyz").status == 200)
        #expect(try String(contentsOfFile: folder + "/admin.token", encoding: .utf8) == token)
        #expect(!second.log.contains("creating embedded PostgreSQL cluster"))

        // kill -9 leaves the postmaster and its pid file behind; the next start must cope.
        _ = second.stop(SIGKILL)
        let third = try ServeProcess(dataDirectory: folder)
        #expect(try await httpRequest("http://127.0.0.1:\(third.port)/readyz").status == 200)
        #expect(third.stop(SIGTERM) == 0)
        #expect(Self.postgresProcesses(for: folder).isEmpty, "postgres still running after SIGTERM")
    }
}
