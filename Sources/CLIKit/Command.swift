import Foundation

/// Exit statuses shared by every `recordonce` command.
public enum ExitCode {
    public static let success: Int32 = 0
    /// The work was attempted and failed (database down, I/O error, test failure).
    public static let failure: Int32 = 1
    /// The command line or the input was invalid (usage error, validation errors).
    public static let usage: Int32 = 2
}

/// One `--name` option. Options with a `valueName` take a value; the others are flags.
public struct Option: Sendable {
    public var name: String
    public var valueName: String?
    public var help: String
    /// Environment variable read when the option is not given.
    public var environment: String?
    /// Value used when neither the option nor the environment gives one (shown in --help).
    public var defaultValue: String?
    /// Allowed values, checked while parsing and listed in --help.
    public var choices: [String]?
    /// May be given several times (values are collected in order).
    public var repeatable: Bool

    public init(_ name: String, value valueName: String? = nil, help: String, environment: String? = nil,
                default defaultValue: String? = nil, choices: [String]? = nil, repeatable: Bool = false) {
        self.name = name
        self.valueName = valueName
        self.help = help
        self.environment = environment
        self.defaultValue = defaultValue
        self.choices = choices
        self.repeatable = repeatable
    }

    public static func flag(_ name: String, help: String) -> Option { Option(name, help: help) }
    var isFlag: Bool { valueName == nil }
}

/// One positional argument.
public struct Argument: Sendable {
    public var name: String
    public var help: String
    public var optional: Bool
    /// Takes every remaining positional argument (only the last argument may).
    public var variadic: Bool

    public init(_ name: String, help: String, optional: Bool = false, variadic: Bool = false) {
        self.name = name
        self.help = help
        self.optional = optional
        self.variadic = variadic
    }
}

/// A command declared as data: `--help` is generated from the same declaration that parsing uses.
public struct Command: Sendable {
    public var name: String
    public var abstract: String
    public var discussion: String?
    public var options: [Option]
    public var arguments: [Argument]
    public var subcommands: [Command]
    public var run: (@Sendable (ParsedArguments) throws -> Int32)?

    public init(_ name: String, abstract: String, discussion: String? = nil, options: [Option] = [],
                arguments: [Argument] = [], subcommands: [Command] = [],
                run: (@Sendable (ParsedArguments) throws -> Int32)? = nil) {
        self.name = name
        self.abstract = abstract
        self.discussion = discussion
        self.options = options
        self.arguments = arguments
        self.subcommands = subcommands
        self.run = run
    }
}

/// A wrong command line. Reported with the command's usage line and exit status 2.
public struct UsageError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// A value read from a configuration file, with where it stands (`hub.json5:12`).
public struct FileValue: Sendable, Equatable {
    public var value: String
    public var location: String

    public init(value: String, location: String) {
        self.value = value
        self.location = location
    }
}

/// The parsed command line of one command.
public struct ParsedArguments: Sendable {
    public let commandPath: [String]
    var values: [String: [String]]
    var flags: Set<String>
    public let positionals: [String]
    let options: [Option]
    let environment: [String: String]
    /// Values from a configuration file, by option name (below the environment, above defaults).
    var fileValues: [String: FileValue] = [:]

    /// The option's last value, else its environment variable, else its configuration file
    /// value, else its default.
    public func value(_ name: String) -> String? {
        if let given = values[name]?.last { return given }
        guard let option = options.first(where: { $0.name == name }) else { return nil }
        if let env = option.environment, let v = environment[env], !v.isEmpty { return v }
        if let file = fileValues[name] { return file.value }
        return option.defaultValue
    }

    /// Where `value(name)` came from, for error messages: `--port`, `RECORDONCE_PORT`,
    /// `hub.json5:12` or `the default of --port`.
    public func origin(_ name: String) -> String {
        if values[name] != nil { return "--\(name)" }
        if let env = options.first(where: { $0.name == name })?.environment, let v = environment[env], !v.isEmpty { return env }
        if let file = fileValues[name] { return "\(file.location) (\(name))" }
        return "the default of --\(name)"
    }

    /// These arguments with a configuration file's values underneath the options and environment.
    public func addingFileValues(_ file: [String: FileValue]) -> ParsedArguments {
        var copy = self
        copy.fileValues = file
        return copy
    }

    /// The options of the command (for checking a configuration file's keys).
    public var declaredOptions: [Option] { options }

    /// Every value given for a repeatable option.
    public func values(_ name: String) -> [String] { values[name] ?? [] }

    /// An integer option; a value that is not an integer is a usage error naming the option.
    public func int(_ name: String) throws -> Int? {
        guard let text = value(name) else { return nil }
        guard let n = Int(text) else { throw UsageError("--\(name) expects a whole number, got '\(text)'") }
        return n
    }

    public func flag(_ name: String) -> Bool { flags.contains(name) }

    public func positional(_ index: Int) -> String? {
        positionals.indices.contains(index) ? positionals[index] : nil
    }
}

/// Runs a command tree against a command line and returns the exit status.
public enum CommandLineRunner {
    public static func run(_ root: Command, arguments: [String] = Array(CommandLine.arguments.dropFirst()),
                           environment: [String: String] = ProcessInfo.processInfo.environment) -> Int32 {
        var command = root
        var path = [root.name]
        var rest = arguments[...]
        while let next = rest.first, let sub = command.subcommands.first(where: { $0.name == next }) {
            command = sub
            path.append(sub.name)
            rest = rest.dropFirst()
        }
        if rest.contains("--help") || rest.first == "-h" || rest.first == "help" {
            print(HelpFormatter.help(for: command, path: path), terminator: "")
            return ExitCode.success
        }
        guard let run = command.run else {
            if let unknown = rest.first {
                printError("unknown command '\(unknown)' for '\(path.joined(separator: " "))'")
            }
            print(HelpFormatter.help(for: command, path: path), terminator: "")
            return rest.isEmpty && path.count == 1 ? ExitCode.success : ExitCode.usage
        }
        do {
            let parsed = try parse(Array(rest), for: command, path: path, environment: environment)
            return try run(parsed)
        } catch let error as UsageError {
            printError(error.message)
            printError("usage: \(HelpFormatter.usageLine(for: command, path: path))")
            printError("see '\(path.joined(separator: " ")) --help'")
            return ExitCode.usage
        } catch {
            printError(String(describing: error))
            return ExitCode.failure
        }
    }

    /// Parses the arguments of one command (after its name).
    public static func parse(_ arguments: [String], for command: Command, path: [String] = [],
                             environment: [String: String] = [:]) throws -> ParsedArguments {
        var values: [String: [String]] = [:]
        var flags = Set<String>()
        var positionals: [String] = []
        var i = 0
        var onlyPositionals = false
        while i < arguments.count {
            let arg = arguments[i]
            i += 1
            if onlyPositionals || !arg.hasPrefix("--") || arg == "-" {
                if arg == "--" && !onlyPositionals { onlyPositionals = true; continue }
                positionals.append(arg)
                continue
            }
            var name = String(arg.dropFirst(2))
            var inline: String?
            if let eq = name.firstIndex(of: "=") {
                inline = String(name[name.index(after: eq)...])
                name = String(name[..<eq])
            }
            guard let option = command.options.first(where: { $0.name == name }) else {
                throw UsageError("unknown option --\(name)")
            }
            if option.isFlag {
                if inline != nil { throw UsageError("--\(name) takes no value") }
                flags.insert(name)
                continue
            }
            let value: String
            if let inline { value = inline } else {
                guard i < arguments.count else { throw UsageError("--\(name) needs a value (\(option.valueName!))") }
                value = arguments[i]
                i += 1
            }
            if let choices = option.choices, !choices.contains(value) {
                throw UsageError("--\(name) must be one of \(choices.joined(separator: ", ")), got '\(value)'")
            }
            if !option.repeatable, values[name] != nil { throw UsageError("--\(name) given more than once") }
            values[name, default: []].append(value)
        }
        let required = command.arguments.filter { !$0.optional }.count
        if positionals.count < required {
            let missing = command.arguments[positionals.count]
            throw UsageError("missing argument \(missing.name.uppercased())")
        }
        if command.arguments.last?.variadic != true, positionals.count > command.arguments.count {
            throw UsageError("unexpected argument '\(positionals[command.arguments.count])'")
        }
        return ParsedArguments(commandPath: path, values: values, flags: flags, positionals: positionals,
                               options: command.options, environment: environment)
    }

    public static func printError(_ message: String) {
        FileHandle.standardError.write(Data("error: \(message)\n".utf8))
    }
}

/// Generates `--help` text from a command's declaration.
public enum HelpFormatter {
    public static func usageLine(for command: Command, path: [String]) -> String {
        var parts = [path.joined(separator: " ")]
        if !command.subcommands.isEmpty && command.run == nil { parts.append("<command>") }
        if !command.options.isEmpty { parts.append("[options]") }
        for arg in command.arguments {
            var text = arg.name.uppercased()
            if arg.variadic { text += "..." }
            parts.append(arg.optional ? "[\(text)]" : text)
        }
        return parts.joined(separator: " ")
    }

    public static func help(for command: Command, path: [String]) -> String {
        var out = "\(command.abstract)\n\nUsage: \(usageLine(for: command, path: path))\n"
        if let discussion = command.discussion { out += "\n\(discussion)\n" }
        if !command.subcommands.isEmpty {
            out += "\nCommands:\n"
            let width = (command.subcommands.map(\.name.count).max() ?? 0) + 2
            for sub in command.subcommands {
                out += "  \(sub.name.padding(toLength: width, withPad: " ", startingAt: 0))\(sub.abstract)\n"
            }
            out += "\nRun '\(path.joined(separator: " ")) <command> --help' for a command's options.\n"
        }
        if !command.arguments.isEmpty {
            out += "\nArguments:\n"
            for arg in command.arguments {
                out += "  \(arg.name.uppercased().padding(toLength: 24, withPad: " ", startingAt: 0))\(arg.help)\n"
            }
        }
        if !command.options.isEmpty || command.run != nil {
            out += "\nOptions:\n"
            for option in command.options {
                var left = "--\(option.name)"
                if let v = option.valueName { left += " \(v)" }
                var right = option.help
                if let choices = option.choices { right += " (\(choices.joined(separator: "|")))" }
                if let env = option.environment { right += " [env: \(env)]" }
                if let d = option.defaultValue { right += " [default: \(d)]" }
                let pad = left.count < 24 ? left.padding(toLength: 24, withPad: " ", startingAt: 0) : left + "\n" + String(repeating: " ", count: 26)
                out += "  \(pad)\(right)\n"
            }
            out += "  \("--help".padding(toLength: 24, withPad: " ", startingAt: 0))Show this help.\n"
        }
        return out
    }
}
