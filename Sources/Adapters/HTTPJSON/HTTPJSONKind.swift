import JSON5

/// `http-json`: a department's REST API answering JSON, polled over libcurl. Settings in
/// `HTTPJSONSettings`; reference in docs/adapters.md ("Pull kinds").
public enum HTTPJSONKind: PullKind {
    public static let name = "http-json"

    public static func validate(_ settings: JSONNode, file: String) -> [AdapterProblem] {
        var reader = PullSettingsReader(settings, file: file, known: HTTPJSONSettings.keys)
        _ = HTTPJSONSettings.read(&reader)
        return reader.problems
    }

    public static func makeSource(_ settings: JSONNode, context: PullContext) throws(PullFailure) -> any PullSource {
        var reader = PullSettingsReader(settings, file: context.adapterID, known: HTTPJSONSettings.keys)
        guard let parsed = HTTPJSONSettings.read(&reader), reader.problems.isEmpty else {
            throw PullFailure(.permanent, "http-json settings are invalid: " + reader.problems.map(\.description).joined(separator: "; "))
        }
        return HTTPJSONSource(settings: parsed, context: context)
    }
}
