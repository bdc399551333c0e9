import JSON5

/// The settings of a `postgres-table` pull: a department's table or view, read incrementally
/// by a cursor column (increasing on every change) with a unique key column breaking ties.
///
/// ```json5
/// pull: {
///   kind: "postgres-table", every: "1m",
///   connection: { env: "HEALTH_ARCHIVE_DATABASE_URL" },   // a libpq URL, as a secret
///   table: "archive.health_record",                       // schema.name or name; a view works too
///   cursor: "updated_at",
///   key: "jkdabh",
///   columns: ["jkdabh", "sfzh", "xm"],                    // default: every column
///   pageSize: 1000,
/// }
/// ```
/// Each page is a JSON array of the rows as objects (`recordsPath` wraps it, e.g. "data.items").
struct PostgresTableSettings: Sendable {
    var connection: SecretReference
    var schema: String?
    var table: String
    var cursor: String
    var key: String
    var columns: [String]
    var pageSize: Int
    var recordsPath: String?
    var initialCheckpoint: String?

    static let keys: Set<String> = ["connection", "table", "cursor", "key", "columns", "pageSize", "recordsPath", "initialCheckpoint"]

    /// A plain SQL identifier: letters, digits and underscores, not starting with a digit, at most 63 bytes.
    static func isIdentifier(_ text: String) -> Bool {
        guard let first = text.utf8.first, text.utf8.count <= 63, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return text.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F }
    }

    /// `"name"` (identifiers are validated first, so there is nothing to escape).
    static func quoted(_ identifier: String) -> String { "\"" + identifier + "\"" }

    static func read(_ settings: inout PullSettingsReader) -> PostgresTableSettings? {
        let connection = settings.secret(settings.root["connection"], path: settings.path("connection"))
        let tableText = settings.string("table", required: true)
        var schema: String?, table: String?
        if let tableText {
            let parts = tableText.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            if parts.count <= 2, parts.allSatisfy(isIdentifier) {
                schema = parts.count == 2 ? parts[0] : nil
                table = parts.last
            } else {
                settings.problem(settings.root["table"], settings.path("table"), "must be name or schema.name (letters, digits, underscores; at most 63 each)")
            }
        }
        func identifier(_ key: String) -> String? {
            guard let text = settings.string(key, required: true) else { return nil }
            guard isIdentifier(text) else {
                settings.problem(settings.root[key], settings.path(key), "must be a column name (letters, digits, underscores; at most 63)")
                return nil
            }
            return text
        }
        let cursor = identifier("cursor")
        let key = identifier("key")
        var columns: [String] = []
        if let node = settings.root["columns"], !node.isNull {
            if let list = node.arrayValue, !list.isEmpty {
                for (i, item) in list.enumerated() {
                    if let name = item.stringValue, isIdentifier(name) { columns.append(name) } else {
                        settings.problem(item, settings.path("columns[\(i)]"), "must be a column name (letters, digits, underscores)")
                    }
                }
            } else {
                settings.problem(node, settings.path("columns"), "must be a non-empty list of column names")
            }
        }
        let pageSize = settings.int("pageSize", default: 1000, in: 1...100_000)
        let recordsPath = settings.string("recordsPath")
        let initial = settings.string("initialCheckpoint")
        guard let connection, let table, let cursor, let key else { return nil }
        return PostgresTableSettings(connection: connection, schema: schema, table: table, cursor: cursor, key: key,
                                     columns: columns, pageSize: pageSize, recordsPath: recordsPath, initialCheckpoint: initial)
    }

    /// The page query: $1/$2 are the last (cursor, key) seen; without them every row from the start.
    func query(after: Bool, cursorOnly: Bool) -> String {
        let from = (schema.map { Self.quoted($0) + "." } ?? "") + Self.quoted(table)
        let selected = columns.isEmpty ? "*" : columns.map(Self.quoted).joined(separator: ", ")
        let c = Self.quoted(cursor), k = Self.quoted(key)
        var inner = "SELECT \(selected), \(c) AS ro_pull_cursor, \(k) AS ro_pull_key FROM \(from)"
        if after { inner += cursorOnly ? " WHERE \(c) >= $1" : " WHERE (\(c), \(k)) > ($1, $2)" }
        inner += " ORDER BY \(c), \(k) LIMIT \(pageSize)"
        return "SELECT (to_jsonb(t) - 'ro_pull_cursor' - 'ro_pull_key')::text AS record, t.ro_pull_cursor::text AS cursor, t.ro_pull_key::text AS key FROM (\(inner)) t"
    }
}
