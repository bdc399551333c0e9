import JSON5

/// A compound checkpoint: the watermark a run started from plus where in the run it is.
///
/// Written as a small JSON object, e.g. `{"since":"2026-11-22T10:00:00.000+08:00","page":4,
/// "max":"2026-11-22T10:03:12.004+08:00"}`, so a restart mid-run continues with the next page.
/// Between runs only `since` is set. A checkpoint an admin writes by hand (a rewind) may be a
/// plain string: it is taken as `since`.
struct PullPosition: Sendable, Equatable {
    /// The watermark substituted for `{checkpoint}`.
    var since: String?
    /// Page number (page pagination) or offset (offset pagination) of the next request.
    var page: Int?
    var offset: Int?
    /// Cursor token or next link of the next request.
    var cursor: String?
    var next: String?
    /// The largest checkpoint-field value seen so far in this run.
    var max: String?
    /// A tie-breaking key (postgres-table: the key column of the last row).
    var key: String?

    var isBetweenRuns: Bool { page == nil && offset == nil && cursor == nil && next == nil }

    init(since: String? = nil) { self.since = since }

    /// Decodes a stored checkpoint; nil or empty means "from the beginning".
    init(checkpoint: String?) {
        guard let checkpoint, !checkpoint.isEmpty else { return }
        guard checkpoint.hasPrefix("{"), let value = try? JSON5.parseJSON(checkpoint), let object = value.objectValue else {
            since = checkpoint
            return
        }
        since = object["since"]?.stringValue
        page = object["page"]?.intValue
        offset = object["offset"]?.intValue
        cursor = object["cursor"]?.stringValue
        next = object["next"]?.stringValue
        max = object["max"]?.stringValue
        key = object["key"]?.stringValue
    }

    /// The checkpoint text.
    var text: String {
        var object = JSONObject()
        if let since { object.members.append(.init(key: "since", value: .string(since))) }
        if let key { object.members.append(.init(key: "key", value: .string(key))) }
        if let page { object.members.append(.init(key: "page", value: .number(String(page)))) }
        if let offset { object.members.append(.init(key: "offset", value: .number(String(offset)))) }
        if let cursor { object.members.append(.init(key: "cursor", value: .string(cursor))) }
        if let next { object.members.append(.init(key: "next", value: .string(next))) }
        if let max { object.members.append(.init(key: "max", value: .string(max))) }
        return JSONValue.object(object).jsonText()
    }
}

/// Orders checkpoint values: as numbers when both are whole numbers of the same sign, as text
/// otherwise (ISO 8601 timestamps in one zone and zero-padded numbers sort as text).
func checkpointValue(_ a: String, isAfter b: String) -> Bool {
    if a.count != b.count, let x = Int64(a), let y = Int64(b) { return x > y }
    return a > b
}
