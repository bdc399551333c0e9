import JSON5

/// The settings of an `http-json` pull (the `pull` object of a declaration).
///
/// ```json5
/// pull: {
///   kind: "http-json", every: "30s",
///   url: "http://police.example/api/hukou/persons?updated_since={checkpoint}&cursor={cursor}&page_size=500",
///   records: "data.items",              // where the records array is in each answer
///   checkpointField: "GXSJ",            // each record's last-change stamp; its maximum is the next checkpoint
///   initialCheckpoint: "1970-01-01T00:00:00.000+08:00",
///   pagination: { style: "cursor", cursorPath: "data.next_cursor" },
///   auth: { bearer: { env: "POLICE_API_TOKEN" } },
///   timeout: 30,
/// }
/// ```
struct HTTPJSONSettings: Sendable {
    /// How the kind walks through the pages of one run.
    enum Pagination: Sendable, Equatable {
        /// One request per run (the answer holds everything since the checkpoint).
        case none
        /// `{page}` counts from `first`; a page with fewer than `pageSize` records (or none) is the last.
        case page(first: Int)
        /// `{offset}` advances by the records received; a short or empty page is the last.
        case offset
        /// The answer's `path` holds the next page's URL (absolute or relative); none means last.
        case nextLink(path: String)
        /// The answer's `path` holds the token substituted for `{cursor}`; none means last.
        case cursor(path: String)

        /// Whether pages are counted positions, so a change during the run can move records
        /// across a page boundary (cursors and next links issued by the server do not).
        var shiftsWithChanges: Bool {
            switch self {
            case .page, .offset: true
            default: false
            }
        }
    }

    /// URL template: `{checkpoint}`, `{page}`, `{offset}`, `{cursor}`, `{pageSize}`.
    var url: String
    /// Dotted path of the records array in each answer ("" = the answer is the array).
    var records: String
    /// Dotted path, inside each record, of the value whose maximum becomes the next checkpoint.
    var checkpointField: String?
    /// Dotted path of each record's key (unique per record), used to notice a page that shifted
    /// under page/offset pagination: a key seen twice in one run.
    var keyField: String?
    var initialCheckpoint: String
    var pagination: Pagination
    /// Records per page the department sends (substituted for `{pageSize}`; a shorter page is the last).
    var pageSize: Int?
    var http: HTTPPullOptions

    static let keys: Set<String> = HTTPPullOptions.settingKeys.union(
        ["url", "records", "checkpointField", "keyField", "initialCheckpoint", "pagination", "pageSize"])

    /// Reads and checks the settings; problems go to `settings`.
    static func read(_ settings: inout PullSettingsReader) -> HTTPJSONSettings? {
        let url = settings.string("url", required: true)
        if let url {
            checkURLSetting(url, path: settings.path("url"), settings: &settings, node: settings.root["url"])
            for name in PullTemplate.placeholders(url) where !["checkpoint", "page", "offset", "cursor", "pageSize"].contains(name) {
                settings.problem(settings.root["url"], settings.path("url"), "unknown placeholder {\(name)} (checkpoint, page, offset, cursor, pageSize)")
            }
        }
        var records = ""
        if let node = settings.root["records"], !node.isNull {
            if let text = node.stringValue { records = text } else { settings.problem(node, settings.path("records"), "must be a dotted path such as \"data.items\" (\"\" for a top-level array)") }
        }
        let checkpointField = settings.string("checkpointField")
        let keyField = settings.string("keyField")
        let initial = settings.string("initialCheckpoint") ?? ""
        let pageSize: Int? = settings.root["pageSize"] == nil ? nil : settings.int("pageSize", default: 100, in: 1...100_000)
        let pagination = readPagination(&settings, url: url)
        if let url, checkpointField != nil, !PullTemplate.placeholders(url).contains("checkpoint") {
            settings.problem(settings.root["url"], settings.path("url"), "has no {checkpoint} placeholder, so checkpointField cannot narrow the next run")
        }
        let http = HTTPPullOptions.read(&settings)
        guard let url else { return nil }
        return HTTPJSONSettings(url: url, records: records, checkpointField: checkpointField, keyField: keyField,
                                initialCheckpoint: initial, pagination: pagination, pageSize: pageSize, http: http)
    }

    private static func readPagination(_ settings: inout PullSettingsReader, url: String?) -> Pagination {
        guard let node = settings.root["pagination"], !node.isNull else { return .none }
        let path = settings.path("pagination")
        guard node.members != nil else {
            settings.problem(node, path, "must be an object such as { style: \"page\" }")
            return .none
        }
        var sub = PullSettingsReader(node, file: settings.file, known: ["style", "first", "path", "cursorPath", "nextPath"], prefix: path)
        let style = sub.choice("style", ["none", "page", "offset", "next-link", "cursor"], default: "none")
        let placeholders = url.map(PullTemplate.placeholders) ?? []
        var result = Pagination.none
        switch style {
        case "page":
            result = .page(first: sub.int("first", default: 1, in: 0...1))
            if url != nil, !placeholders.contains("page") { sub.problem(node, path, "style page needs a {page} placeholder in pull.url") }
        case "offset":
            result = .offset
            if url != nil, !placeholders.contains("offset") { sub.problem(node, path, "style offset needs an {offset} placeholder in pull.url") }
        case "next-link":
            let linkPath = sub.string("nextPath") ?? sub.string("path")
            if linkPath == nil { sub.problem(node, "\(path).nextPath", "missing (the answer's path of the next page's URL, e.g. \"links.next\")") }
            result = .nextLink(path: linkPath ?? "")
        case "cursor":
            let cursorPath = sub.string("cursorPath") ?? sub.string("path")
            if cursorPath == nil { sub.problem(node, "\(path).cursorPath", "missing (the answer's path of the next cursor, e.g. \"data.next_cursor\")") }
            if url != nil, !placeholders.contains("cursor") { sub.problem(node, path, "style cursor needs a {cursor} placeholder in pull.url") }
            result = .cursor(path: cursorPath ?? "")
        default:
            break
        }
        settings.absorb(sub.problems)
        return result
    }
}

/// A dotted member path ("data.items") into a JSON value; "" is the value itself.
func jsonValue(at path: String, in value: JSONValue) -> JSONValue? {
    var current = value
    guard !path.isEmpty else { return current }
    for name in path.split(separator: ".") {
        guard let next = current[String(name)] else { return nil }
        current = next
    }
    return current
}

/// A scalar's text (strings as is, numbers as written, booleans); nil for null, arrays, objects.
func scalarText(_ value: JSONValue?) -> String? {
    switch value {
    case .string(let s): s
    case .number(let t): t
    case .bool(let b): b ? "true" : "false"
    default: nil
    }
}
