import Foundation

/// How serious a log line is. Lines below the logger's threshold are dropped.
public enum LogLevel: Int, Comparable, Sendable, CaseIterable {
    case debug = 0, info, warning, error

    public var name: String {
        switch self {
        case .debug: "debug"
        case .info: "info"
        case .warning: "warning"
        case .error: "error"
        }
    }

    public init?(name: String) {
        guard let level = LogLevel.allCases.first(where: { $0.name == name.lowercased() }) else {
            if name.lowercased() == "warn" { self = .warning; return }
            return nil
        }
        self = level
    }

    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }
}

/// JSON lines for machines (the default), or aligned text for people (`--log-format text`).
public enum LogFormat: String, Sendable {
    case json, text
}

/// A thread-safe structured logger writing one line per event to a file handle (stderr by default).
///
/// Metadata values are strings the caller chose to log; never pass residents' personal data.
public final class Logger: @unchecked Sendable {
    public let label: String
    private let sink: LogSink
    private let metadata: [(String, String)]

    public init(label: String, level: LogLevel = .info, format: LogFormat = .json,
                output: FileHandle = .standardError) {
        self.label = label
        self.sink = LogSink(level: level, format: format, output: output)
        self.metadata = []
    }

    private init(label: String, sink: LogSink, metadata: [(String, String)]) {
        self.label = label
        self.sink = sink
        self.metadata = metadata
    }

    /// A logger that writes to the same place with another label and extra metadata on every line.
    public func child(label: String? = nil, _ extra: KeyValuePairs<String, String> = [:]) -> Logger {
        Logger(label: label ?? self.label, sink: sink, metadata: metadata + extra.map { ($0.key, $0.value) })
    }

    public var level: LogLevel { sink.level }

    public func debug(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.debug, message(), fields)
    }
    public func info(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.info, message(), fields)
    }
    public func warning(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.warning, message(), fields)
    }
    public func error(_ message: @autoclosure () -> String, _ fields: KeyValuePairs<String, String> = [:]) {
        log(.error, message(), fields)
    }

    public func log(_ level: LogLevel, _ message: @autoclosure () -> String,
                    _ fields: KeyValuePairs<String, String> = [:]) {
        guard level >= sink.level else { return }
        let all = metadata + fields.map { ($0.key, $0.value) }
        sink.write(level: level, label: label, message: message(), fields: all)
    }

    /// A logger that discards everything (tests, library defaults).
    public static let silent = Logger(label: "silent", level: .error,
                                      output: FileHandle(forWritingAtPath: "/dev/null") ?? .standardError)
}

private final class LogSink: @unchecked Sendable {
    let level: LogLevel
    let format: LogFormat
    let output: FileHandle
    private let lock = NSLock()

    init(level: LogLevel, format: LogFormat, output: FileHandle) {
        self.level = level
        self.format = format
        self.output = output
    }

    func write(level: LogLevel, label: String, message: String, fields: [(String, String)]) {
        let time = Timestamp.iso8601(Date())
        var line: String
        switch format {
        case .json:
            line = "{\"time\":\"\(time)\",\"level\":\"\(level.name)\",\"logger\":\(JSONText.quote(label)),\"msg\":\(JSONText.quote(message))"
            for (k, v) in fields { line += ",\(JSONText.quote(k)):\(JSONText.quote(v))" }
            line += "}\n"
        case .text:
            line = "\(time) \(level.name.uppercased().padding(toLength: 7, withPad: " ", startingAt: 0)) [\(label)] \(message)"
            for (k, v) in fields { line += " \(k)=\(v.contains(" ") ? JSONText.quote(v) : v)" }
            line += "\n"
        }
        lock.lock()
        defer { lock.unlock() }
        output.write(Data(line.utf8))
    }
}

/// Minimal JSON text helpers for hand-built JSON (log lines, metrics), where Foundation's encoder is too slow.
public enum JSONText {
    /// The JSON string literal for `s`, quotes included.
    public static func quote(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += String(format: "\\u%04x", scalar.value)
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }
}

/// UTC timestamps in RFC 3339 with milliseconds, without DateFormatter's per-call cost.
public enum Timestamp {
    public static func iso8601(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var secs = time_t(t.rounded(.down))
        let millis = Int((t - t.rounded(.down)) * 1000)
        var tm = tm()
        gmtime_r(&secs, &tm)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ",
                      Int(tm.tm_year) + 1900, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                      Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), millis)
    }
}
