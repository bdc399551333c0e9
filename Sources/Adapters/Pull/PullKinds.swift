/// Every pull kind the hub knows, by the name declarations use (`pull: { kind: "..." }`).
///
/// Add one line per kind. Declarations with a kind not listed here are refused, and the
/// scheduler builds sources only from these.
public enum PullKinds {
    public static let all: [any PullKind.Type] = [
        HTTPJSONKind.self,
        SOAPXMLKind.self,
        CSVDropKind.self,
        PostgresTableKind.self,
    ]

    /// The kind named `name` in `kinds`.
    public static func named(_ name: String, in kinds: [any PullKind.Type] = all) -> (any PullKind.Type)? {
        kinds.first { $0.name == name }
    }
}
