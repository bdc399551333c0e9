import Foundation

/// Runnable examples in a Markdown document, and the processes that run them.
///
/// Convention (docs/feed.md follows it): a fenced block whose info string is
/// `sh test=NAME` or `python test=NAME` is run by the test suite, in document order, with bash
/// (`-e -o pipefail`) or python3, all in one shared working folder. Adding `background` after the
/// name (`python test=webhook-receiver background`) starts the block and moves on; the test stops
/// it later. Blocks without `test=` are only for reading, except `text output=NAME` (the exact
/// output of example NAME) and `json example=NAME` (a sample the test compares with the real
/// thing), which the test reads through `DocExamples.blocks`.
struct DocExample: Sendable {
    enum Language: String, Sendable { case sh, python }

    let name: String
    let language: Language
    let background: Bool
    let code: String
    /// 1-based line of the opening fence, for failure messages.
    let line: Int
}

/// A fenced block of the document that does not follow the convention.
struct DocExampleSyntaxError: Error, CustomStringConvertible {
    let file: String
    let line: Int
    let reason: String
    var description: String { "\(file):\(line): \(reason)" }
}

enum DocExamples {
    /// The runnable (`test=`) blocks of a Markdown text, in order. `blocks` gives every fenced
    /// block, for the other conventions (`text output=NAME`, `json example=NAME`).
    static func parse(_ markdown: String, file: String) throws -> [DocExample] {
        var examples: [DocExample] = []
        for block in try blocks(markdown, file: file) {
            guard let name = block.attributes["test"] else { continue }
            guard let language = DocExample.Language(rawValue: block.language) else {
                throw DocExampleSyntaxError(file: file, line: block.line, reason: "test blocks are sh or python, not '\(block.language)'")
            }
            if examples.contains(where: { $0.name == name }) {
                throw DocExampleSyntaxError(file: file, line: block.line, reason: "a second example named '\(name)'")
            }
            examples.append(DocExample(name: name, language: language, background: block.attributes["background"] != nil,
                                       code: block.code, line: block.line))
        }
        return examples
    }

    /// One fenced block: its language, `key=value` or bare-word attributes, code and line.
    struct Block {
        let language: String
        let attributes: [String: String]
        let code: String
        let line: Int
    }

    static func blocks(_ markdown: String, file: String) throws -> [Block] {
        var out: [Block] = []
        var open: (info: String, line: Int)?
        var lines: [Substring] = []
        for (index, line) in markdown.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.hasPrefix("```") {
                if let current = open {
                    let words = current.info.split(separator: " ").map(String.init)
                    var attributes: [String: String] = [:]
                    for word in words.dropFirst() {
                        let parts = word.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
                        attributes[parts[0]] = parts.count == 2 ? parts[1] : ""
                    }
                    out.append(Block(language: words.first ?? "", attributes: attributes,
                                     code: lines.joined(separator: "\n") + "\n", line: current.line))
                    open = nil
                    lines = []
                } else {
                    open = (String(line.dropFirst(3)).trimmingCharacters(in: .whitespaces), index + 1)
                }
            } else if open != nil {
                lines.append(line)
            }
        }
        if let open { throw DocExampleSyntaxError(file: file, line: open.line, reason: "the fenced block is never closed") }
        return out
    }
}

/// An example that could not be started, and why.
struct ExampleStartFailure: Error, CustomStringConvertible {
    let description: String
}

/// One running example: its output goes to files in the shared folder, so a long-running one
/// can be watched while it runs.
final class ExampleProcess: @unchecked Sendable {
    let example: DocExample
    let process = Process()
    let stdoutPath: String
    let stderrPath: String

    /// Starts `example` in `folder` with `environment` added to this process's own.
    init(_ example: DocExample, folder: String, environment: [String: String]) throws {
        self.example = example
        let script = folder + "/\(example.name).\(example.language == .sh ? "sh" : "py")"
        try example.code.write(toFile: script, atomically: true, encoding: .utf8)
        stdoutPath = folder + "/\(example.name).out"
        stderrPath = folder + "/\(example.name).err"
        guard FileManager.default.createFile(atPath: stdoutPath, contents: nil),
              FileManager.default.createFile(atPath: stderrPath, contents: nil) else {
            throw ExampleStartFailure(description: "cannot create the output files of example \(example.name) in \(folder)")
        }
        switch example.language {
        case .sh:
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-e", "-o", "pipefail", script]
        case .python:
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", script]
        }
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle(forWritingAtPath: stdoutPath)
        process.standardError = FileHandle(forWritingAtPath: stderrPath)
        try process.run()
    }

    var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the example to end (polling: Foundation's waitUntilExit can hang on Linux) and
    /// returns its exit status, or nil after `timeout` seconds (the example is then stopped).
    func finish(timeout: Double) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(20_000) }
        if process.isRunning {
            stop()
            return nil
        }
        return process.terminationStatus
    }

    /// Waits until the standard output satisfies `condition`, or the example ends, or `timeout`
    /// passes; returns the output then.
    @discardableResult
    func waitForOutput(timeout: Double, until condition: (String) -> Bool) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var text = stdout
        while !condition(text) && process.isRunning && Date() < deadline {
            usleep(50_000)
            text = stdout
        }
        return stdout
    }

    /// Stops the example and every process it started (curl under bash), by process id. SIGKILL,
    /// because the examples inherit the test thread's signal mask, in which SIGTERM may be blocked.
    func stop() {
        guard process.isRunning else { return }
        let root = process.processIdentifier
        for pid in Self.descendants(of: root).reversed() { kill(pid, SIGKILL) }
        kill(root, SIGKILL)
        for _ in 0..<200 where process.isRunning { usleep(10_000) }
    }

    /// Whether a process exists and is not a zombie (a killed child that nobody reaped yet).
    static func isAlive(_ pid: pid_t) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.range(of: ")", options: .backwards) else { return false }
        let state = stat[close.upperBound...].split(separator: " ").first
        return state != "Z" && state != "X"
    }

    /// Every process below `root`, parents before children, read from /proc.
    static func descendants(of root: pid_t) -> [pid_t] {
        var parent: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                  let close = stat.range(of: ")", options: .backwards) else { continue }
            let fields = stat[close.upperBound...].split(separator: " ")
            if fields.count > 1, let ppid = pid_t(fields[1]) { parent[pid] = ppid }
        }
        var out: [pid_t] = []
        var frontier = [root]
        while let next = frontier.popLast() {
            let children = parent.filter { $0.value == next }.map(\.key)
            out.append(contentsOf: children)
            frontier.append(contentsOf: children)
        }
        return out
    }
}
