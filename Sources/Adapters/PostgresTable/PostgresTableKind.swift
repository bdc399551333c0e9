import JSON5

/// `postgres-table`: a department's PostgreSQL table or view read incrementally by a cursor
/// column. Settings in `PostgresTableSettings`; reference in docs/adapters.md ("Pull kinds").
public enum PostgresTableKind: PullKind {
    public static let name = "postgres-table"

    public static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var reader = PullSettingsReader(settings, file: file, known: PostgresTableSettings.keys)
        _ = PostgresTableSettings.read(&reader)
        return reader.problems
    }

    public static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        var reader = PullSettingsReader(settings, file: context.adapterID, known: PostgresTableSettings.keys)
        guard let parsed = PostgresTableSettings.read(&reader), reader.problems.isEmpty else {
            throw PullFailure(.permanent, "postgres-table settings are invalid: " + reader.problems.map(\.description).joined(separator: "; "))
        }
        return PostgresTableSource(settings: parsed, context: context)
    }
}
