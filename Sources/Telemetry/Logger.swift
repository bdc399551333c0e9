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
    /// The JSON string literal for `s`, quotes included. Works on the UTF-8 bytes (this runs for
    /// every field of every feed event): a string with nothing to escape is copied in one go.
    public static func quote(_ s: String) -> String {
        var s = s
        return s.withUTF8 { bytes in
            var extra = 0
            for b in bytes where b < 0x20 || b == 0x22 || b == 0x5C {
                extra += (b < 0x20 && b != 0x0A && b != 0x0D && b != 0x09) ? 5 : 1
            }
            return String(unsafeUninitializedCapacity: bytes.count + extra + 2) { out in
                out[0] = 0x22
                var i = 1
                if extra == 0 {
                    _ = UnsafeMutableBufferPointer(rebasing: out[1...]).initialize(from: bytes)
                    i += bytes.count
                } else {
                    for b in bytes {
                        switch b {
                        case 0x22, 0x5C: out[i] = 0x5C; out[i + 1] = b; i += 2
                        case 0x0A: out[i] = 0x5C; out[i + 1] = UInt8(ascii: "n"); i += 2
                        case 0x0D: out[i] = 0x5C; out[i + 1] = UInt8(ascii: "r"); i += 2
                        case 0x09: out[i] = 0x5C; out[i + 1] = UInt8(ascii: "t"); i += 2
                        case 0..<0x20:
                            let hex: [UInt8] = Array("0123456789abcdef".utf8)
                            out[i] = 0x5C; out[i + 1] = UInt8(ascii: "u"); out[i + 2] = 0x30; out[i + 3] = 0x30
                            out[i + 4] = hex[Int(b >> 4)]; out[i + 5] = hex[Int(b & 15)]
                            i += 6
                        default: out[i] = b; i += 1
                        }
                    }
                }
                out[i] = 0x22
                return i + 1
            }
        }
    }
}

/// UTC timestamps in RFC 3339 with milliseconds, without DateFormatter's per-call cost.
public enum Timestamp {
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`, digits written directly (this runs for every feed event).
    public static func iso8601(_ date: Date) -> String {
        let t = date.timeIntervalSince1970
        var secs = time_t(t.rounded(.down))
        let millis = Int((t - t.rounded(.down)) * 1000)
        var tm = tm()
        gmtime_r(&secs, &tm)
        let year = Int(tm.tm_year) + 1900
        guard (0...9999).contains(year) else {
            return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", year, Int(tm.tm_mon) + 1, Int(tm.tm_mday),
                          Int(tm.tm_hour), Int(tm.tm_min), Int(tm.tm_sec), millis)
        }
        return String(unsafeUninitializedCapacity: 24) { out in
            func put(_ value: Int, _ digits: Int, at start: Int) {
                var v = value
                for k in stride(from: start + digits - 1, through: start, by: -1) {
                    out[k] = UInt8(48 + v % 10)
                    v /= 10
                }
            }
            put(year, 4, at: 0); out[4] = UInt8(ascii: "-")
            put(Int(tm.tm_mon) + 1, 2, at: 5); out[7] = UInt8(ascii: "-")
            put(Int(tm.tm_mday), 2, at: 8); out[10] = UInt8(ascii: "T")
            put(Int(tm.tm_hour), 2, at: 11); out[13] = UInt8(ascii: ":")
            put(Int(tm.tm_min), 2, at: 14); out[16] = UInt8(ascii: ":")
            put(Int(tm.tm_sec), 2, at: 17); out[19] = UInt8(ascii: ".")
            put(min(999, max(0, millis)), 3, at: 20); out[23] = UInt8(ascii: "Z")
            return 24
        }
    }
}
