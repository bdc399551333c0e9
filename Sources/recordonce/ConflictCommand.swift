import CLIKit
import Foundation

/// `recordonce conflict list|summary|show|resolve` and `recordonce record correct`: an admin's
/// stewardship decisions on a running hub, over its HTTP API (guide: docs/stewardship.md).
let conflictCommand = Command(
    "conflict",
    abstract: "List, count and resolve disagreements between departments on a running hub.",
    discussion: """
    A conflict opens when a department ranked lower for a field (catalog authorities) sends a value
    other than the golden one. It closes by itself (superseded) when the disagreement goes away,
    or when an admin resolves it. A resolution becomes an override on that field: it outranks
    every department until the field's authoritative department sends new information. Talks to
    the hub at --url with the admin token (RECORDONCE_ADMIN_TOKEN or <data-dir>/admin.token).
    """,
    subcommands: [conflictListCommand, conflictSummaryCommand, conflictShowCommand, conflictResolveCommand]
)

let recordCommand = Command(
    "record",
    abstract: "Correct golden records on a running hub.",
    subcommands: [recordCorrectCommand]
)

let remote: [Option] = [
    Option("url", value: "URL", help: "The hub's base URL.", environment: "RECORDONCE_URL", default: "http://127.0.0.1:8080"),
    Option("data-dir", value: "DIR", help: "Where the hub wrote admin.token (when RECORDONCE_ADMIN_TOKEN is not set).",
           environment: "RECORDONCE_DATA_DIR", default: "./var"),
    Option("format", value: "FORMAT", help: "Output format.", default: "text", choices: ["text", "json"]),
]

private let filters: [Option] = [
    Option("status", value: "STATUS", help: "Conflicts in this state.", default: "open", choices: ["open", "resolved", "superseded", "all"]),
    Option("resource", value: "NAME", help: "Only this catalog resource (Person, Household, ...)."),
    Option("field", value: "NAME", help: "Only this field."),
    Option("department", value: "ID", help: "Only conflicts with this department on either side."),
    Option("golden-department", value: "ID", help: "Only where this department holds the golden value (admin: an override)."),
    Option("challenger-department", value: "ID", help: "Only where this department challenges it."),
]

func query(_ args: ParsedArguments, _ names: [String]) -> String {
    var parts: [String] = []
    for name in names {
        guard let value = args.value(name) else { continue }
        let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? value
        parts.append(name.replacingOccurrences(of: "-", with: "_") + "=" + encoded)
    }
    return parts.isEmpty ? "" : "?" + parts.joined(separator: "&")
}

func object(_ data: Data) -> [String: Any] { (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:] }

func printJSON(_ data: Data) { print(String(decoding: data, as: UTF8.self)) }

let conflictListCommand = Command(
    "list", abstract: "Conflicts matching the filters: id, state, field, the two departments, entity.",
    discussion: "Values are not printed here; `conflict show ID` prints one conflict whole.",
    options: filters + [
        Option("after", value: "ID", help: "Continue after this conflict id (the previous page's last)."),
        Option("limit", value: "N", help: "At most this many (1-1000).", default: "100"),
    ] + remote
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/conflicts" + query(args, ["status", "resource", "field", "department",
        "golden-department", "challenger-department", "after", "limit"])) else { return ExitCode.failure }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    let conflicts = object(body)["conflicts"] as? [[String: Any]] ?? []
    let rows = conflicts.map { c -> [String] in
        ["\(c["id"] ?? "")", c["status"] as? String ?? "", "\(c["resource"] ?? "").\(c["field"] ?? "")",
         c["golden_department"] as? String ?? "", c["challenger_department"] as? String ?? "", c["entity_id"] as? String ?? ""]
    }
    print(AdapterText.table([["ID", "STATUS", "FIELD", "GOLDEN", "CHALLENGER", "ENTITY"]] + rows), terminator: "")
    return ExitCode.success
}

let conflictSummaryCommand = Command(
    "summary", abstract: "Conflicts counted by resource, field, golden and challenger department, largest first.",
    options: filters + remote
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/conflicts/summary" + query(args, ["status", "resource", "field", "department",
        "golden-department", "challenger-department"])) else { return ExitCode.failure }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    let rows = (object(body)["summary"] as? [[String: Any]] ?? []).map { s -> [String] in
        ["\(s["open"] ?? 0)", "\(s["resource"] ?? "").\(s["field"] ?? "")", s["golden_department"] as? String ?? "",
         s["challenger_department"] as? String ?? ""]
    }
    print(AdapterText.table([["COUNT", "FIELD", "GOLDEN", "CHALLENGER"]] + rows), terminator: "")
    return ExitCode.success
}

let conflictShowCommand = Command(
    "show", abstract: "One conflict whole: both values with their provenance, its state and any resolution (JSON).",
    options: remote, arguments: [Argument("id", help: "The conflict id.")]
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/conflicts/\(try AdapterText.pathSegment(args.positional(0)!))") else {
        return ExitCode.failure
    }
    printJSON(body)
    return ExitCode.success
}

let conflictResolveCommand = Command(
    "resolve",
    abstract: "Decide a conflict (by id), or every open conflict matching filters (--all), with a reason.",
    discussion: """
    Decisions:
      keep_golden      the golden value stays and becomes an override, so the same challenge
                       does not come back;
      take_challenger  the challenger's value becomes the golden value, as an override;
      set_value        another value (--value TEXT, or --value-json for numbers and booleans)
                       becomes the golden value, as an override; it is checked against the
                       catalog field (type, code table, identifier rule) and refused naming the
                       rule it breaks.
    An override outranks every department until the field's authoritative department sends a
    value other than the one it had sent when the decision was made; then the field follows the
    departments again. --reason is required: it is kept with the override and in the audit log.
    With --all, the filters choose the open conflicts (at least one filter), the decision is
    keep_golden or take_challenger, and everything happens in one transaction; --dry-run prints
    how many would be resolved and how many golden values would change, and changes nothing.
    """,
    options: [
        Option("decision", value: "DECISION", help: "What to do.", choices: ["keep_golden", "take_challenger", "set_value"]),
        Option("value", value: "TEXT", help: "The value for set_value, as text."),
        Option("value-json", value: "JSON", help: "The value for set_value as JSON (42, true, \"20\")."),
        Option("reason", value: "TEXT", help: "Why (required; recorded with the decision and in the audit log)."),
        Option.flag("all", help: "Resolve every open conflict the filters match instead of one id."),
        Option.flag("dry-run", help: "With --all: count what would change, change nothing."),
    ] + filters.filter { $0.name != "status" && $0.name != "department" } + remote,
    arguments: [Argument("id", help: "The conflict id (without --all).", optional: true)]
) { args in
    guard let decision = args.value("decision") else { throw UsageError("give --decision keep_golden, take_challenger or set_value") }
    guard let reason = args.value("reason"), !reason.isEmpty else { throw UsageError("give --reason: it is kept with the decision") }
    var request: [String: Any] = ["decision": decision, "reason": reason]
    let client = try HubClient(args)
    if args.flag("all") {
        guard args.positional(0) == nil else { throw UsageError("give either a conflict id or --all with filters") }
        var filter: [String: String] = [:]
        for name in ["resource", "field", "golden-department", "challenger-department"] {
            if let v = args.value(name) { filter[name.replacingOccurrences(of: "-", with: "_")] = v }
        }
        request["filter"] = filter
        request["dry_run"] = args.flag("dry-run")
        guard let body = try client.answer("POST", "/v1/conflicts/resolve", body: try JSONSerialization.data(withJSONObject: request)) else {
            return ExitCode.failure
        }
        if args.value("format") == "json" { printJSON(body); return ExitCode.success }
        let answer = object(body)
        let dry = answer["dry_run"] as? Bool == true
        print("\(dry ? "dry run: would resolve" : "resolved") \(answer["matched"] ?? 0) conflict(s); "
              + "\(dry ? "would change" : "changed") \(answer["changed"] ?? 0) golden value(s)")
        return ExitCode.success
    }
    guard let id = args.positional(0) else { throw UsageError("give the conflict id, or --all with filters") }
    if let text = args.value("value") { request["value"] = text }
    if let json = args.value("value-json") {
        guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
            throw UsageError("--value-json is not JSON")
        }
        request["value"] = value
    }
    guard let body = try client.answer("POST", "/v1/conflicts/\(try AdapterText.pathSegment(id))/resolve",
                                       body: try JSONSerialization.data(withJSONObject: request)) else { return ExitCode.failure }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    let c = object(body)
    print("conflict \(id) \(c["status"] ?? ""): \(decision) on \(c["resource"] ?? "").\(c["field"] ?? "") of \(c["entity_id"] ?? "")")
    return ExitCode.success
}

let recordCorrectCommand = Command(
    "correct",
    abstract: "Set a field of a golden record to a checked value with a reason, or remove such a correction.",
    discussion: """
    A correction (a resident showed that a value is wrong) is an admin override without a conflict:
    the value is checked against the catalog field (type, code table, identifier rule), recorded
    with who, why and when, outranks every department, and retires when the field's authoritative
    department sends new information. --remove takes the override away: the field gets back the
    value the departments had given it. Both are written to the audit log with the reason.
    Prints the golden record as the hub then holds it (JSON).
    """,
    options: [
        Option("value", value: "TEXT", help: "The corrected value, as text."),
        Option("value-json", value: "JSON", help: "The corrected value as JSON (42, true)."),
        Option("reason", value: "TEXT", help: "Why (required)."),
        Option.flag("remove", help: "Remove the override on the field instead of setting one."),
    ] + remote.filter { $0.name != "format" },
    arguments: [Argument("resource", help: "The catalog resource (Person, ...)."), Argument("id", help: "The golden record's id."),
                Argument("field", help: "The field to correct.")]
) { args in
    guard let reason = args.value("reason"), !reason.isEmpty else { throw UsageError("give --reason: it is kept with the correction") }
    let segments = (0..<3).map { args.positional($0)!.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-_."))) ?? "" }
    let path = "/v1/resources/\(segments[0])/\(segments[1])/fields/\(segments[2])"
    let client = try HubClient(args)
    let body: Data?
    if args.flag("remove") {
        let encoded = reason.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        body = try client.answer("DELETE", path + "?reason=" + encoded)
    } else {
        var request: [String: Any] = ["reason": reason]
        if let text = args.value("value") { request["value"] = text }
        if let json = args.value("value-json") {
            guard let value = try? JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) else {
                throw UsageError("--value-json is not JSON")
            }
            request["value"] = value
        }
        guard request["value"] != nil else { throw UsageError("give --value or --value-json, or --remove") }
        body = try client.answer("PUT", path, body: try JSONSerialization.data(withJSONObject: request))
    }
    guard let body else { return ExitCode.failure }
    printJSON(body)
    return ExitCode.success
}
