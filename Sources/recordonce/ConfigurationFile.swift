import CLIKit
import Foundation
import JSON5

/// A `serve` configuration file (`--config /etc/recordonce/hub.json5`): one JSON5 object whose
/// keys are `serve`'s option names without the dashes (`"database-url"`, `"port"`, ...).
/// A value in the file is used when neither the option nor its environment variable is given.
enum ConfigurationFile {
    /// Options that cannot come from the file.
    static let excluded: Set<String> = ["config"]

    /// The file's values by option name, and every problem found, each as `file:line:column: message`.
    static func read(_ path: String, options: [Option]) -> (values: [String: FileValue], problems: [String]) {
        guard let data = FileManager.default.contents(atPath: path) else {
            let reason = FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file"
            return ([:], ["\(path): \(reason)"])
        }
        let root: JSONNode
        do {
            root = try JSON5.parseDocument(Array(data), file: path)
        } catch {
            return ([:], [error.description])
        }
        guard let members = root.members else {
            return ([:], ["\(path):\(root.position): the configuration must be an object of option names and values, not \(root.kindName)"])
        }
        let byName = Dictionary(options.filter { !excluded.contains($0.name) }.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        var values: [String: FileValue] = [:]
        var problems: [String] = []
        for member in members {
            let at = "\(path):\(member.keyPosition)"
            guard let option = byName[member.key] else {
                let hint = byName.keys.first { $0.replacingOccurrences(of: "-", with: "_") == member.key || $0 == member.key.lowercased() }
                problems.append("\(at): unknown key '\(member.key)'" + (hint.map { " (did you mean '\($0)'?)" } ?? ""))
                continue
            }
            if values[member.key] != nil {
                problems.append("\(at): '\(member.key)' is given twice")
                continue
            }
            let text: String
            switch member.value.kind {
            case .string(let s): text = s
            case .number(let n): text = n
            default:
                problems.append("\(path):\(member.value.position): '\(member.key)' must be a string or a number, not \(member.value.kindName)")
                continue
            }
            if let choices = option.choices, !choices.contains(text) {
                problems.append("\(path):\(member.value.position): '\(member.key)' must be one of \(choices.joined(separator: ", ")), got '\(text)'")
                continue
            }
            values[member.key] = FileValue(value: text, location: "\(path):\(member.value.position.line)")
        }
        return (values, problems)
    }

    /// `args` with the file named by `--config` (or RECORDONCE_CONFIG) underneath. Throws a usage
    /// error listing every problem at once: the file's (unknown keys, wrong types) and those of
    /// the values that win (from the file, the environment or the options).
    static func apply(to args: ParsedArguments) throws -> ParsedArguments {
        guard let path = args.value("config") else { return args }
        let (values, fileProblems) = read(path, options: args.declaredOptions)
        let combined = args.addingFileValues(values)
        let problems = fileProblems + valueProblems(combined)
        guard problems.isEmpty else { throw UsageError(problems.joined(separator: "\n")) }
        return combined
    }

    /// The problems `HubOptions.configuration` finds in the values `args` gives.
    static func valueProblems(_ args: ParsedArguments) -> [String] {
        do {
            _ = try HubOptions.configuration(args)
            return []
        } catch let error as UsageError {
            return error.message.split(separator: "\n").map(String.init)
        } catch {
            return [String(describing: error)]
        }
    }

    static let option = Option("config", value: "FILE", help: "A JSON5 file with values for the other options (keys are option names); "
                               + "an option or its environment variable overrides the file. Check one with 'recordonce config check'.",
                               environment: "RECORDONCE_CONFIG")
}

let configCommand = Command(
    "config",
    abstract: "Check a serve configuration file.",
    subcommands: [
        Command(
            "check",
            abstract: "Check a JSON5 configuration file for 'recordonce serve --config' without starting anything.",
            discussion: """
            Reports every problem at once, each with file:line: unknown keys, values of the wrong
            type, values outside their allowed range, a TLS certificate without its key. The
            environment is not consulted: the file is checked on its own. The keys are the options
            of 'recordonce serve' without their dashes (docs/operations.md lists them).
            Exit status 0 when the file is valid, 2 when it is not.
            """,
            arguments: [Argument("file", help: "The configuration file (JSON5).")]
        ) { args in
            let path = args.positional(0)!
            let options = serveCommand.options
            let (values, fileProblems) = ConfigurationFile.read(path, options: options)
            let parsed = try CommandLineRunner.parse([], for: serveCommand, path: ["recordonce", "serve"], environment: [:])
            let problems = fileProblems + ConfigurationFile.valueProblems(parsed.addingFileValues(values))
            guard problems.isEmpty else {
                for problem in problems { CommandLineRunner.printError(problem) }
                return ExitCode.usage
            }
            print("\(path): valid (\(values.count) setting\(values.count == 1 ? "" : "s"))")
            return ExitCode.success
        }
    ]
)
