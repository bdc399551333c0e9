import Adapters
import CLIKit
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hub

/// `recordonce adapter list|show|run|validate`: look at and drive a running hub's adapters, and
/// check a declaration before registering it.
let adapterCommand = Command(
    "adapter",
    abstract: "List, inspect, run and validate adapters.",
    discussion: """
    list, show and run talk to a running hub over HTTP (--url) with the admin token from
    RECORDONCE_ADMIN_TOKEN or <data-dir>/admin.token. validate works offline. The declaration
    format and the scheduling rules are in docs/adapters.md.
    """,
    subcommands: [adapterListCommand, adapterShowCommand, adapterRunCommand, adapterValidateCommand]
)

private let remoteOptions: [Option] = [
    Option("url", value: "URL", help: "The hub's base URL.", environment: "RECORDONCE_URL", default: "http://127.0.0.1:8080"),
    Option("data-dir", value: "DIR", help: "Where the hub wrote admin.token (when RECORDONCE_ADMIN_TOKEN is not set).",
           environment: "RECORDONCE_DATA_DIR", default: "./var"),
    Option("format", value: "FORMAT", help: "Output format.", default: "text", choices: ["text", "json"]),
]

let adapterListCommand = Command(
    "list", abstract: "Every adapter: state, kind, schedule, counters, lag, last error.", options: remoteOptions
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/adapters") else { return ExitCode.failure }
    if args.value("format") == "json" { print(String(decoding: body, as: UTF8.self)); return ExitCode.success }
    let adapters = (try JSONSerialization.jsonObject(with: body) as? [String: Any])?["adapters"] as? [[String: Any]] ?? []
    let header = ["ID", "STATE", "PULL", "IN", "ACCEPTED", "REJECTED", "LAG", "LAST ERROR"]
    let rows = adapters.map { a -> [String] in
        let counters = a["counters"] as? [String: Any] ?? [:]
        let pull = (a["pull"] as? [String: Any]).map { "\($0["kind"] ?? "")/\(AdapterText.duration($0["every_seconds"] as? Double))" } ?? "push"
        return [a["id"] as? String ?? "", a["state"] as? String ?? "", pull, "\(counters["records_in"] ?? 0)",
                "\(counters["accepted"] ?? 0)", "\(counters["rejected"] ?? 0)", AdapterText.duration(a["lag_seconds"] as? Double),
                (a["state"] as? String == "running" ? "" : a["last_error"] as? String) ?? ""]
    }
    print(AdapterText.table([header] + rows), terminator: "")
    return ExitCode.success
}

let adapterShowCommand = Command(
    "show", abstract: "One adapter's state, checkpoint, counters, last run and last error.", options: remoteOptions,
    arguments: [Argument("id", help: "The adapter id.")]
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/adapters/\(try AdapterText.pathSegment(args.positional(0)!))") else {
        return ExitCode.failure
    }
    if args.value("format") == "json" { print(String(decoding: body, as: UTF8.self)); return ExitCode.success }
    let a = try JSONSerialization.jsonObject(with: body) as? [String: Any] ?? [:]
    let counters = a["counters"] as? [String: Any] ?? [:]
    let pull = (a["pull"] as? [String: Any]).map { "\($0["kind"] ?? "") every \(AdapterText.duration($0["every_seconds"] as? Double))" } ?? "none (the department pushes)"
    let lines: [(String, Any?)] = [
        ("id", a["id"]), ("department", a["department"]), ("description", a["description"]), ("mapping", a["mapping"]),
        ("origin", a["origin"]), ("file", a["file"]), ("pull", pull), ("state", a["state"]), ("running now", a["running_now"]),
        ("next run", a["next_run_at"]), ("last run", a["last_run_at"]), ("last caught up", a["last_success_at"]),
        ("lag", AdapterText.duration(a["lag_seconds"] as? Double)), ("failures in a row", a["failures"]),
        ("last error", a["last_error"]), ("last error at", a["last_error_at"]), ("checkpoint", a["checkpoint"]),
        ("records in", counters["records_in"]), ("accepted", counters["accepted"]), ("unchanged", counters["unchanged"]),
        ("rejected", counters["rejected"]), ("skipped", counters["skipped"]),
        ("mapping problems", (a["mapping_problems"] as? [String]).flatMap { $0.isEmpty ? nil : $0.joined(separator: "; ") }),
    ]
    for (name, value) in lines {
        guard let value, !(value is NSNull) else { continue }
        print("\(name.padding(toLength: 18, withPad: " ", startingAt: 0)) \(value is Bool ? ((value as! Bool) ? "yes" : "no") : "\(value)")")
    }
    return ExitCode.success
}

let adapterRunCommand = Command(
    "run", abstract: "Run a pull adapter now (refused for push-only, paused and failing adapters).", options: remoteOptions,
    arguments: [Argument("id", help: "The adapter id.")]
) { args in
    let id = args.positional(0)!
    guard let body = try HubClient(args).answer("POST", "/v1/adapters/\(try AdapterText.pathSegment(id))/run") else {
        return ExitCode.failure
    }
    if args.value("format") == "json" { print(String(decoding: body, as: UTF8.self)); return ExitCode.success }
    print("\(id): run requested; follow it with: recordonce adapter show \(id)")
    return ExitCode.success
}

let adapterValidateCommand = Command(
    "validate",
    abstract: "Check adapter declarations offline: every problem with file:line.",
    discussion: """
    Checks what registration checks: keys, id, department, the pull object (known kind, schedule,
    the kind's own settings), that every secret reference ({ env } or { file }) resolves here, and
    that the mapping validates for this adapter against the catalog. Relative secret files are
    resolved against the declaration's folder. Exit status: 0 valid, 2 problems.
    """,
    options: [
        Option("catalog", value: "DIR", help: "The canonical catalog folder.", environment: "RECORDONCE_CATALOG_DIR", default: "mappings/catalog"),
        Option("mappings", value: "DIR", help: "Mapping files; an adapter's mapping is relative to it.",
               environment: "RECORDONCE_MAPPINGS_DIR", default: "mappings"),
    ],
    arguments: [Argument("file", help: "Adapter declarations (*.json5).", variadic: true)]
) { args in
    let registry: IngestRegistry
    do {
        registry = try IngestRegistry.catalogOnly(catalogDirectory: args.value("catalog")!, mappingsDirectory: args.value("mappings")!)
    } catch {
        CommandLineRunner.printError(String(describing: error))
        return ExitCode.usage
    }
    var invalid = 0
    for file in args.positionals {
        guard let data = FileManager.default.contents(atPath: file) else {
            print("\(file): cannot read the file")
            invalid += 1
            continue
        }
        let folder = (file as NSString).deletingLastPathComponent
        let (_, problems) = AdapterRegistrations.validate(Array(data), file: file, registry: registry,
                                                          adaptersDirectory: folder.isEmpty ? "." : folder, kinds: PullKinds.all)
        for problem in problems { print(problem) }
        print(problems.isEmpty ? "\(file): valid" : "\(file): \(problems.count) problem(s)")
        if !problems.isEmpty { invalid += 1 }
    }
    return invalid == 0 ? ExitCode.success : ExitCode.usage
}

/// A blocking HTTP client for the admin API.
struct HubClient {
    let base: String
    let token: String

    init(_ args: ParsedArguments) throws {
        base = (args.value("url") ?? "http://127.0.0.1:8080").trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if let token = ProcessInfo.processInfo.environment["RECORDONCE_ADMIN_TOKEN"], !token.isEmpty {
            self.token = token
        } else {
            let path = (args.value("data-dir") ?? "./var") + "/admin.token"
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw UsageError("no admin token: set RECORDONCE_ADMIN_TOKEN or point --data-dir at the hub's folder (\(path) is not readable)")
            }
            token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }

    /// The body of a 2xx answer, or nil after printing why there is none (unreachable, refused).
    func answer(_ method: String, _ path: String, body: Data? = nil) throws -> Data? {
        do {
            return try request(method, path, body: body)
        } catch let error as HubUnreachable {
            CommandLineRunner.printError(error.message)
            return nil
        }
    }

    /// The response body of a 2xx answer; otherwise an error with the hub's message.
    func request(_ method: String, _ path: String, body: Data? = nil) throws -> Data {
        guard let url = URL(string: base + path) else { throw UsageError("--url \(base) is not a URL") }
        var request = URLRequest(url: url)
        request.httpMethod = method
        if let body {
            request.httpBody = body
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        }
        request.timeoutInterval = 30
        request.setValue("Bearer \(token)", forHTTPHeaderField: "Authorization")
        let box = ResponseBox()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            box.set(data, (response as? HTTPURLResponse)?.statusCode, error)
            done.signal()
        }.resume()
        done.wait()
        let (data, status, error) = box.get()
        if let error { throw HubUnreachable(message: "cannot reach the hub at \(base): \(error.localizedDescription)") }
        let body = data ?? Data()
        guard let status, (200..<300).contains(status) else {
            let message = ((try? JSONSerialization.jsonObject(with: body)) as? [String: Any])
                .flatMap { $0["error"] as? [String: Any] }.flatMap { $0["message"] as? String } ?? String(decoding: body, as: UTF8.self)
            throw HubUnreachable(message: "HTTP \(status ?? 0): \(message)")
        }
        return body
    }

    struct HubUnreachable: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    private final class ResponseBox: @unchecked Sendable {
        private let lock = NSLock()
        private var value: (Data?, Int?, (any Error)?) = (nil, nil, nil)
        func set(_ data: Data?, _ status: Int?, _ error: (any Error)?) { lock.withLock { value = (data, status, error) } }
        func get() -> (Data?, Int?, (any Error)?) { lock.withLock { value } }
    }
}

/// Text helpers for adapter output.
enum AdapterText {
    /// "42s", "5m", "2h3m", "-" for nil.
    static func duration(_ seconds: Double?) -> String {
        guard let seconds else { return "-" }
        let s = Int(seconds.rounded())
        if s < 120 { return "\(s)s" }
        if s < 7200 { return "\(s / 60)m" }
        return "\(s / 3600)h\(s % 3600 / 60)m"
    }

    /// Columns padded to their widest cell.
    static func table(_ rows: [[String]]) -> String {
        guard let first = rows.first else { return "" }
        let widths = first.indices.map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n") + "\n"
    }

    /// An adapter id as a URL path segment (ids are lowercase letters, digits and dashes).
    static func pathSegment(_ id: String) throws -> String {
        guard !id.isEmpty, id.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "-") }) else {
            throw UsageError("'\(id)' is not an adapter id (lowercase letters, digits and dashes)")
        }
        return id
    }
}
