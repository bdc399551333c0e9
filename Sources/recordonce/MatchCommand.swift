import CLIKit
import Foundation
import Hub
import RecordStore
import Store

/// `recordonce match list|show|link|reject`: the review queue of records that arrived without a
/// usable identity key, on a running hub over its HTTP API (guide: docs/stewardship.md).
let matchCommand = Command(
    "match",
    abstract: "Review records that arrived without a usable identity key: list, show, link or reject match cases.",
    discussion: """
    A mapping output marked `matchable` sends a record whose identity key is missing or invalid to
    matching instead of rejecting it. When exactly one candidate agrees on every compared rule
    above the output's threshold, the record is linked at once; otherwise it waits here as a match
    case (outcome no_candidate, ambiguous or below_threshold) with its source position, its
    candidates, each one's score and per-rule agreement. Linking applies the record as if it had
    arrived with the entity's key; rejecting keeps it out. Both need a reason and are audited.
    Talks to the hub at --url with the admin token (RECORDONCE_ADMIN_TOKEN or <data-dir>/admin.token).
    """,
    subcommands: [matchListCommand, matchShowCommand, matchLinkCommand, matchRejectCommand, matchReindexCommand]
)

let matchListCommand = Command(
    "list", abstract: "Match cases: id, state, outcome, resource, adapter, source position, candidates and best score.",
    discussion: "Values are not printed here; `match show ID` prints one case whole, with the record's values.",
    options: [
        Option("status", value: "STATUS", help: "Cases in this state.", default: "open", choices: ["open", "linked", "rejected", "all"]),
        Option("adapter", value: "ID", help: "Only this adapter's records."),
        Option("resource", value: "NAME", help: "Only this catalog resource (Person, ...)."),
        Option("after", value: "ID", help: "Continue after this case id (the previous page's last)."),
        Option("limit", value: "N", help: "At most this many (1-1000).", default: "100"),
    ] + remote
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/matches" + query(args, ["status", "adapter", "resource", "after", "limit"])) else {
        return ExitCode.failure
    }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    let rows = (object(body)["matches"] as? [[String: Any]] ?? []).map { c -> [String] in
        ["\(c["id"] ?? "")", c["status"] as? String ?? "", c["outcome"] as? String ?? "", c["resource"] as? String ?? "",
         c["adapter"] as? String ?? "", c["position"] as? String ?? "", "\((c["candidates"] as? [Any])?.count ?? 0)",
         (c["score"] as? Double).map { String($0) } ?? "-"]
    }
    print(AdapterText.table([["ID", "STATUS", "OUTCOME", "RESOURCE", "ADAPTER", "POSITION", "CANDIDATES", "SCORE"]] + rows), terminator: "")
    return ExitCode.success
}

let matchShowCommand = Command(
    "show", abstract: "One match case whole: the record, its candidates with per-rule agreement, and any decision (JSON).",
    options: remote, arguments: [Argument("id", help: "The match case id.")]
) { args in
    guard let body = try HubClient(args).answer("GET", "/v1/matches/\(try AdapterText.pathSegment(args.positional(0)!))") else {
        return ExitCode.failure
    }
    printJSON(body)
    return ExitCode.success
}

let matchLinkCommand = Command(
    "link",
    abstract: "Link an open case to an entity: its record is applied as if it had arrived with that entity's key.",
    discussion: """
    Survivorship decides each field as for any record (a lower-ranked disagreement opens a
    conflict), a change event goes to the feed, and every field the record gives carries
    provenance naming the case, the rule and the score. --reason is required and audited.
    """,
    options: [
        Option("entity", value: "ID", help: "The entity (golden record id) the record belongs to; usually one of the case's candidates."),
        Option("reason", value: "TEXT", help: "Why (required; recorded with the decision and in the audit log)."),
    ] + remote,
    arguments: [Argument("id", help: "The match case id.")]
) { args in
    guard let entity = args.value("entity") else { throw UsageError("give --entity: the id of the record to link to") }
    guard let reason = args.value("reason"), !reason.isEmpty else { throw UsageError("give --reason: it is kept with the decision") }
    let id = try AdapterText.pathSegment(args.positional(0)!)
    guard let body = try HubClient(args).answer("POST", "/v1/matches/\(id)/link",
                                                body: try JSONSerialization.data(withJSONObject: ["entity_id": entity, "reason": reason])) else {
        return ExitCode.failure
    }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    let c = object(body)
    print("match case \(id) \(c["status"] ?? ""): linked to \(c["resource"] ?? "")/\(entity); \(c["versions_written"] ?? 0) version(s) written, \(c["conflicts"] ?? 0) conflict(s)")
    return ExitCode.success
}

let matchRejectCommand = Command(
    "reject", abstract: "Reject an open case with a reason: its record is applied to no entity (the case keeps it).",
    options: [Option("reason", value: "TEXT", help: "Why (required; recorded with the decision and in the audit log).")] + remote,
    arguments: [Argument("id", help: "The match case id.")]
) { args in
    guard let reason = args.value("reason"), !reason.isEmpty else { throw UsageError("give --reason: it is kept with the decision") }
    let id = try AdapterText.pathSegment(args.positional(0)!)
    guard let body = try HubClient(args).answer("POST", "/v1/matches/\(id)/reject",
                                                body: try JSONSerialization.data(withJSONObject: ["reason": reason])) else {
        return ExitCode.failure
    }
    if args.value("format") == "json" { printJSON(body); return ExitCode.success }
    print("match case \(id) \(object(body)["status"] ?? "")")
    return ExitCode.success
}

let matchReindexCommand = Command(
    "reindex",
    abstract: "Write the blocking keys of stored entities that have none (run once after upgrading to matching).",
    discussion: """
    Candidates for a record without a usable key are found only through the blocking-key index,
    which the hub writes whenever an entity gets a new version. Entities stored before the
    matching migration (0013) are not in it until then; this command indexes every entity of a
    resource with match rules that has no key, in pages, on the database directly (the hub may
    keep running), and prints how many. A change of the blocking rules reaches an entity that
    already has keys at its next version.
    """,
    options: HubOptions.database + HubOptions.content.filter { $0.name != "adapters" } + HubOptions.logging
) { args in
    let configuration = try HubOptions.configuration(args)
    let logger = HubOptions.logger(args, label: "match-reindex")
    let registry = try IngestRegistry.catalogOnly(catalogDirectory: configuration.catalogDirectory,
                                                  mappingsDirectory: configuration.mappingsDirectory)
    let database = try HubDatabase.open(configuration, logger: logger)
    defer { database.close() }
    let pool = ConnectionPool(url: database.url, maxConnections: 2)
    defer { pool.close() }
    let indexed = try RecordStore(pool: pool, rules: registry.rules).indexMissingMatchKeys()
    print("indexed the blocking keys of \(indexed) entit\(indexed == 1 ? "y" : "ies")")
    return ExitCode.success
}
