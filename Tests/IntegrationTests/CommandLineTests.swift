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

/// `serve --config FILE` and `recordonce config check FILE`.
@Suite struct ConfigurationFileTests {
    static func write(_ text: String) throws -> String {
        let path = try temporaryFolder("ro-config") + "/hub.json5"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aValidFileChecksClean() throws {
        let path = try Self.write("""
        // The district's hub.
        {
          host: "0.0.0.0",
          port: 8443,
          "database-url": "postgresql://hub@db.internal/recordonce",
          "pull-lease": 45,
          "log-format": "text",
          "audit-retention-days": 1096,   // three years (PIPL art. 56)
        }
        """)
        let run = try Binary.run(["config", "check", path])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.contains("valid (6 settings)"))
    }

    @Test func everyProblemIsReportedAtOnceWithItsLine() throws {
        let path = try Self.write("""
        {
          port: 70000,
          "log-format": "xml",
          "pull_lease": 5,
          "tls-cert": "/etc/recordonce/tls/hub.pem",
          "audit-retention-days": [30],
          "webhook-disable-after": "soon",
        }
        """)
        let check = try Binary.run(["config", "check", path])
        #expect(check.status == 2)
        let expected = ["\(path):4:3: unknown key 'pull_lease' (did you mean 'pull-lease'?)",
                        "\(path):3:17: 'log-format' must be one of json, text, got 'xml'",
                        "\(path):6:27: 'audit-retention-days' must be a string or a number, not array",
                        "\(path):2 (port): must be a whole number between 0 and 65535, got 70000",
                        "\(path):5 (tls-cert): needs tls-key too",
                        "\(path):7 (webhook-disable-after): must be a number of hours above 0"]
        for problem in expected {
            #expect(check.stderr.contains(problem), "missing \(problem) in \(check.stderr)")
        }
        // Serve refuses to start on the same file and says the same, together with a bad option.
        let serve = try Binary.run(["serve", "--config", path, "--pull-lease", "0"])
        #expect(serve.status == 2)
        for problem in expected + ["--pull-lease: must be a number of seconds between 1 and 3600, got 0"] {
            #expect(serve.stderr.contains(problem), "missing \(problem) in \(serve.stderr)")
        }
    }

    @Test func anOptionBeatsTheEnvironmentWhichBeatsTheFile() throws {
        // Each run fails on purpose: the error names where the winning value came from.
        let path = try Self.write("{ port: \"from-file\" }")
        let file = try Binary.run(["serve", "--config", path])
        #expect(file.status == 2 && file.stderr.contains("\(path):1 (port): must be a whole number"), "\(file.stderr)")
        let environment = try Binary.run(["serve", "--config", path], environment: ["RECORDONCE_PORT": "from-env"])
        #expect(environment.status == 2 && environment.stderr.contains("RECORDONCE_PORT: must be a whole number"), "\(environment.stderr)")
        let option = try Binary.run(["serve", "--config", path, "--port", "from-option"], environment: ["RECORDONCE_PORT": "from-env"])
        #expect(option.status == 2 && option.stderr.contains("--port: must be a whole number"), "\(option.stderr)")
        let viaEnvironment = try Binary.run(["serve"], environment: ["RECORDONCE_CONFIG": path])
        #expect(viaEnvironment.stderr.contains("\(path):1 (port)"), "\(viaEnvironment.stderr)")
        let missing = try Binary.run(["config", "check", "/nonexistent/hub.json5"])
        #expect(missing.status == 2 && missing.stderr.contains("/nonexistent/hub.json5: no such file"))
    }

    /// docs/operations.md lists every key of the file: exactly the options `serve --help` shows.
    @Test func operationsGuideListsEveryServeOption() throws {
        let help = try Binary.run(["serve", "--help"]).stdout
        let options = help.components(separatedBy: "\nOptions:\n").last ?? ""
        let fromHelp = Set(options.split(separator: "\n").compactMap { line -> String? in
            let trimmed = line.drop { $0 == " " }
            guard trimmed.hasPrefix("--") else { return nil }
            return String(trimmed.dropFirst(2).prefix { $0 != " " })
        }).subtracting(["help", "config"])
        let guide = try String(contentsOfFile: RepositoryRoot.path + "/docs/operations.md", encoding: .utf8)
        let section = guide.components(separatedBy: "## Starting").dropFirst().first?.components(separatedBy: "\n## ").first ?? ""
        let fromGuide = Set(section.split(separator: "\n").compactMap { line -> String? in
            guard line.hasPrefix("| `--") else { return nil }
            return String(line.dropFirst(5).prefix { $0 != "`" })
        })
        #expect(fromHelp.count > 10)
        #expect(fromGuide == fromHelp, "in --help only: \(fromHelp.subtracting(fromGuide).sorted()); in the guide only: \(fromGuide.subtracting(fromHelp).sorted())")
    }
}
