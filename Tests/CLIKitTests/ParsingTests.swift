import Testing
@testable import CLIKit

@Suite struct ParsingTests {
    let command = Command("serve", abstract: "Run.", options: [
        Option("port", value: "N", help: "Port.", environment: "RO_PORT", default: "8080"),
        Option("format", value: "F", help: "Format.", choices: ["json", "text"]),
        .flag("verbose", help: "More."),
    ], arguments: [Argument("file", help: "File.", optional: true)]) { _ in 0 }

    @Test func optionPrecedenceIsCommandLineThenEnvironmentThenDefault() throws {
        #expect(try CommandLineRunner.parse([], for: command).value("port") == "8080")
        #expect(try CommandLineRunner.parse([], for: command, environment: ["RO_PORT": "9"]).value("port") == "9")
        #expect(try CommandLineRunner.parse(["--port", "7"], for: command, environment: ["RO_PORT": "9"]).value("port") == "7")
        #expect(try CommandLineRunner.parse(["--port=6"], for: command).int("port") == 6)
    }

    @Test func aConfigurationFileSitsBetweenTheEnvironmentAndTheDefault() throws {
        let file = ["port": FileValue(value: "5", location: "hub.json5:3")]
        let fromFile = try CommandLineRunner.parse([], for: command).addingFileValues(file)
        #expect(fromFile.value("port") == "5")
        #expect(fromFile.origin("port") == "hub.json5:3 (port)")
        let fromEnvironment = try CommandLineRunner.parse([], for: command, environment: ["RO_PORT": "9"]).addingFileValues(file)
        #expect(fromEnvironment.value("port") == "9")
        #expect(fromEnvironment.origin("port") == "RO_PORT")
        let fromOption = try CommandLineRunner.parse(["--port", "7"], for: command, environment: ["RO_PORT": "9"]).addingFileValues(file)
        #expect(fromOption.value("port") == "7")
        #expect(fromOption.origin("port") == "--port")
        let byDefault = try CommandLineRunner.parse([], for: command).addingFileValues([:])
        #expect(byDefault.value("port") == "8080")
        #expect(byDefault.origin("port") == "the default of --port")
    }

    @Test func flagsAndPositionals() throws {
        let parsed = try CommandLineRunner.parse(["a.json", "--verbose"], for: command)
        #expect(parsed.flag("verbose"))
        #expect(parsed.positional(0) == "a.json")
    }

    @Test func badCommandLinesAreUsageErrors() {
        #expect(throws: UsageError.self) { try CommandLineRunner.parse(["--nope"], for: command) }
        #expect(throws: UsageError.self) { try CommandLineRunner.parse(["--port"], for: command) }
        #expect(throws: UsageError.self) { try CommandLineRunner.parse(["--format", "xml"], for: command) }
        #expect(throws: UsageError.self) { try CommandLineRunner.parse(["a", "b"], for: command) }
        #expect(throws: UsageError.self) { try CommandLineRunner.parse(["--port", "x"], for: command).int("port") }
    }

    @Test func helpListsOptionsWithEnvironmentAndDefaults() {
        let text = HelpFormatter.help(for: command, path: ["recordonce", "serve"])
        #expect(text.contains("Usage: recordonce serve [options] [FILE]"))
        #expect(text.contains("[env: RO_PORT]"))
        #expect(text.contains("[default: 8080]"))
        #expect(text.contains("(json|text)"))
    }
}
