import CSystem
import Foundation

/// Runs a program to completion with posix_spawn, its output appended to a file.
///
/// Foundation's Process is not used here: a daemon started by the child (pg_ctl's postmaster)
/// inherits the pipe Process watches and `waitUntilExit()` never returns. File descriptors from 3
/// up are closed in the child.
enum Subprocess {
    struct Failure: Error, CustomStringConvertible {
        let program: String
        let status: Int32
        let output: String
        var description: String {
            "\(program) exited with status \(status)" + (output.isEmpty ? "" : ":\n" + output)
        }
    }

    /// Runs `arguments` (the first is the program's path), appending stdout and stderr to
    /// `outputFile` (or discarding them), and returns the exit status.
    static func run(_ arguments: [String], outputFile: String? = nil) throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        posix_spawn_file_actions_addclosefrom_np(&actions, 3)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Start with default signal handling: the hub ignores SIGINT itself to handle it in order.
        var defaults = sigset_t()
        sigemptyset(&defaults)
        sigaddset(&defaults, SIGINT)
        sigaddset(&defaults, SIGTERM)
        sigaddset(&defaults, SIGPIPE)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var empty = sigset_t()
        sigemptyset(&empty)
        posix_spawnattr_setsigmask(&attributes, &empty)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))
        posix_spawnattr_setpgroup(&attributes, 0)

        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { for p in argv { free(p) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, arguments[0], &actions, &attributes, &argv, environ)
        guard rc == 0 else {
            throw Failure(program: arguments[0], status: -1, output: String(cString: strerror(rc)))
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { return -1 }
        }
        // WIFEXITED / WEXITSTATUS are macros: decode the wait status by hand.
        if status & 0x7f == 0 { return (status >> 8) & 0xff }
        return 128 + (status & 0x7f)
    }

    /// Runs and throws `Failure` (with the output file's last lines) unless the status is 0.
    static func check(_ arguments: [String], outputFile: String) throws {
        let status = try run(arguments, outputFile: outputFile)
        guard status == 0 else {
            throw Failure(program: programName(arguments), status: status, output: tail(of: outputFile, lines: 15))
        }
    }

    /// The program's name, looking through a `runuser -u USER --` prefix.
    static func programName(_ arguments: [String]) -> String {
        let program = arguments.firstIndex(of: "--").map { arguments[$0 + 1] } ?? arguments[0]
        return URL(fileURLWithPath: program).lastPathComponent
    }

    static func tail(of file: String, lines: Int) -> String {
        guard let data = FileManager.default.contents(atPath: file) else { return "" }
        let text = String(decoding: data, as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: false).suffix(lines).joined(separator: "\n")
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }
}
