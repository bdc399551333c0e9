import Foundation
import Testing

/// The built `recordonce` binary, run as a user would run it.
enum Binary {
    static let path: String = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/recordonce").path
    }()

    struct Run {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs the binary to completion.
    static func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Run {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Run(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                   stderr: String(decoding: stderr, as: UTF8.self))
    }
}

@Suite struct CommandLineTests {
    @Test func helpListsTheCommands() throws {
        let run = try Binary.run(["--help"])
        #expect(run.status == 0)
        for command in ["serve", "db", "version"] { #expect(run.stdout.contains("  \(command)")) }
    }

    @Test func serveHelpExplainsOptionsAndEnvironment() throws {
        let run = try Binary.run(["serve", "--help"])
        #expect(run.status == 0)
        for text in ["--port", "RECORDONCE_PORT", "--database-url", "RECORDONCE_DATABASE_URL", "--data-dir",
                     "RECORDONCE_DATA_DIR", "[default: 8080]", "--log-format", "admin.token",
                     "--audit-retention-days", "RECORDONCE_AUDIT_RETENTION_DAYS", "--webhook-disable-after"] {
            #expect(run.stdout.contains(text), "missing \(text)")
        }
    }

    @Test func usageErrorsExitWithStatus2() throws {
        let unknownOption = try Binary.run(["serve", "--prot", "1"])
        #expect(unknownOption.status == 2)
        #expect(unknownOption.stderr.contains("unknown option --prot"))
        #expect(try Binary.run(["serve", "--port", "eighty"]).status == 2)
        #expect(try Binary.run(["serve", "--port", "70000"]).status == 2)
        let retention = try Binary.run(["serve", "--audit-retention-days", "0"])
        #expect(retention.status == 2 && retention.stderr.contains("--audit-retention-days"))
        #expect(try Binary.run(["serve", "--webhook-disable-after", "soon"]).status == 2)
        #expect(try Binary.run(["nosuchcommand"]).status == 2)
    }

    @Test func versionPrintsTheVersion() throws {
        let run = try Binary.run(["version"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("recordonce "))
    }

    @Test func dbMigrateIsIdempotent() throws {
        let url = try TestDatabase.fresh()
        let first = try Binary.run(["db", "migrate", "--database-url", url])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("applied 0001_api_tokens"))
        let second = try Binary.run(["db", "migrate", "--database-url", url])
        #expect(second.stdout.contains("up to date"))
    }

    @Test func anUnreachableDatabaseFailsWithStatus1() throws {
        let run = try Binary.run(["db", "migrate", "--database-url", "postgresql:///x?host=/tmp/nothing-here&connect_timeout=2"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("connection"))
    }
}
