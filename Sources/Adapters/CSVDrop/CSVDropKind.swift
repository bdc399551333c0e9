import JSON5

/// `csv-drop`: a folder a department drops CSV exports into (UTF-8 or GB18030). Settings in
/// `CSVDropSettings`; reference in docs/adapters.md ("Pull kinds").
public enum CSVDropKind: PullKind {
    public static let name = "csv-drop"

    public static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var reader = PullSettingsReader(settings, file: file, known: CSVDropSettings.keys)
        _ = CSVDropSettings.read(&reader)
        return reader.problems
    }

    public static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        var reader = PullSettingsReader(settings, file: context.adapterID, known: CSVDropSettings.keys)
        guard let parsed = CSVDropSettings.read(&reader), reader.problems.isEmpty else {
            throw PullFailure(.permanent, "csv-drop settings are invalid: " + reader.problems.map(\.description).joined(separator: "; "))
        }
        return CSVDropSource(settings: parsed, context: context)
    }
}
